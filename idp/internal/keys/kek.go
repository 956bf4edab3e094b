package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KEKSize is the length of the key-encryption key in bytes (AES-256).
const KEKSize = 32

// KeyFileName is the file in the data directory that holds the generated
// key-encryption key when neither IDP_SECRET_KEY nor IDP_SECRET_KEY_FILE is
// set.
const KeyFileName = "secret.key"

// LoadOrCreateKEK returns the key-encryption key, from the first of:
// secretKeyB64 (IDP_SECRET_KEY: base64 of exactly 32 bytes); keyFile
// (IDP_SECRET_KEY_FILE), which must exist; <dataDir>/secret.key, created
// with 32 random bytes (mode 0600) when it does not exist yet. A key file
// holds base64 or the 32 raw bytes and must not be readable by group or
// others. There is deliberately no way to pass the key as an argument: a
// command line is visible to every local user. Errors name the setting or
// the file and never include key material.
func LoadOrCreateKEK(secretKeyB64, keyFile, dataDir string) ([]byte, error) {
	if secretKeyB64 != "" {
		k, err := decodeKey(secretKeyB64)
		if err != nil {
			return nil, fmt.Errorf("invalid IDP_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	if keyFile != "" {
		k, err := readKeyFile(keyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("invalid IDP_SECRET_KEY_FILE: key file %s does not exist", keyFile)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid IDP_SECRET_KEY_FILE: %w", err)
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("no key-encryption key: set IDP_SECRET_KEY, IDP_SECRET_KEY_FILE or IDP_DATA_DIR")
	}
	path := filepath.Join(dataDir, KeyFileName)
	k, err := readKeyFile(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return createKeyFile(dataDir, path)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KEKSize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d (generate one with: openssl rand -base64 32)", len(k), KEKSize)
			}
			return k, nil
		}
	}
	return nil, errors.New("not base64 (generate one with: openssl rand -base64 32)")
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("key file %s is a directory", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by group or others (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(b) == KEKSize {
		return b, nil
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a fresh key to a temporary file and links it into
// place, so that two processes starting at once end up with the same key:
// the loser of the link reads the winner's file.
func createKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	k := make([]byte, KEKSize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generating key-encryption key: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("creating key file in %s: %w", dataDir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("creating key file in %s: %w", dataDir, err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file in %s: %w", dataDir, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file in %s: %w", dataDir, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing key file in %s: %w", dataDir, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("creating key file %s: %w", path, err)
	}
	return k, nil
}

// Derive returns a 32-byte key for one purpose, derived from the KEK with
// HKDF-SHA256. The same KEK and purpose give the same key on every replica
// and after every restart.
func Derive(kek []byte, purpose string) ([32]byte, error) {
	var out [32]byte
	if len(kek) != KEKSize {
		return out, fmt.Errorf("key-encryption key has %d bytes, want %d", len(kek), KEKSize)
	}
	b, err := hkdf.Key(sha256.New, kek, nil, "cliniconnects-identity/"+purpose, len(out))
	if err != nil {
		return out, fmt.Errorf("deriving %s key: %w", purpose, err)
	}
	copy(out[:], b)
	return out, nil
}

// sealVersion prefixes every sealed blob so the format can change later.
const sealVersion = 1

// ErrWrongKEK is returned when sealed data cannot be opened: it was sealed
// with another key-encryption key, for another id, or it is corrupt.
var ErrWrongKEK = errors.New("keys: cannot decrypt: wrong key-encryption key (IDP_SECRET_KEY, IDP_SECRET_KEY_FILE or secret.key) or corrupt data")

// Seal encrypts plaintext with AES-256-GCM under kek, binding it to aad (for
// signing keys: the key id), and returns version || nonce || ciphertext.
func Seal(kek, plaintext, aad []byte) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open reverses Seal. Any mismatch gives ErrWrongKEK.
func Open(kek, sealed, aad []byte) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrWrongKEK
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	pt, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrWrongKEK
	}
	return pt, nil
}

func newGCM(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("keys: key-encryption key has %d bytes, want %d", len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return cipher.NewGCM(block)
}
