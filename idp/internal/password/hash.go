package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/cliniconnects/identity/idp/third_party/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams are OWASP's minimum recommendation for argon2id
// (m=19 MiB, t=2, p=1) with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{
	Memory:  19 * 1024,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// Bounds applied both when hashing and when parsing a stored hash, so that
// a corrupted or hostile hash cannot make verification absurdly expensive
// or trivially weak.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

const (
	algorithm  = "argon2id"
	versionTag = "v=19" // argon2.Version == 0x13
)

var b64 = base64.RawStdEncoding.Strict()

// Errors returned by Hash and Verify. Errors wrap one of these; test with
// errors.Is. Messages never include the secret or the hash.
var (
	ErrEmptySecret          = errors.New("password: empty secret")
	ErrMalformedHash        = errors.New("password: malformed hash")
	ErrUnsupportedAlgorithm = errors.New("password: unsupported hash algorithm")
	ErrUnsupportedVersion   = errors.New("password: unsupported argon2 version")
	ErrInvalidParams        = errors.New("password: invalid argon2 parameters")
)

// Hasher hashes and verifies secrets with argon2id. The zero Hasher uses
// DefaultParams.
type Hasher struct {
	Params Params
}

// NewHasher returns a Hasher using DefaultParams.
func NewHasher() Hasher { return Hasher{Params: DefaultParams} }

// WithParams returns a copy of h using p. It exists so tests can choose
// cheaper parameters deliberately; production code should use DefaultParams.
func (h Hasher) WithParams(p Params) Hasher {
	h.Params = p
	return h
}

func (h Hasher) params() Params {
	if h.Params == (Params{}) {
		return DefaultParams
	}
	return h.Params
}

// Hash derives an argon2id key from secret with a fresh random salt and
// returns it in PHC string form. It runs under the process-wide bound and
// returns ErrBusy when that is exhausted.
func (h Hasher) Hash(secret string) (string, error) { return h.hash(secret, inSlot) }

// hash is Hash with run giving the hashing slot.
func (h Hasher) hash(secret string, run func(func(*argon2.Buffer)) error) (string, error) {
	if secret == "" {
		return "", ErrEmptySecret
	}
	p := h.params()
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	var key []byte
	if err := run(func(buf *argon2.Buffer) { key = h.idKey(buf, []byte(secret), salt, p) }); err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

// Verify reports whether secret matches the PHC-encoded argon2id hash phc.
// needsRehash is true when the hash was made with parameters other than
// h's, so the caller should store a fresh Hash after a successful login.
// A malformed hash, another algorithm or version, or out-of-range
// parameters yield an error (and ok == false), as does ErrBusy when the
// process-wide bound is exhausted: then nothing was checked.
func (h Hasher) Verify(secret, phc string) (ok bool, needsRehash bool, err error) {
	return h.verify(secret, phc, inSlot)
}

// verify is Verify with run giving the hashing slot.
func (h Hasher) verify(secret, phc string, run func(func(*argon2.Buffer)) error) (ok bool, needsRehash bool, err error) {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, false, err
	}
	var got []byte
	if err := run(func(buf *argon2.Buffer) { got = h.idKey(buf, []byte(secret), salt, p) }); err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != h.params(), nil
}

// idKey derives the argon2id key of secret with parameters p in the
// slot's buffer buf. Parameters with more memory than h's own (a stored
// hash made elsewhere or before a change of Params) get memory allocated
// for this call alone, so that no stored hash can make a slot keep more
// than h's Params.Memory.
func (h Hasher) idKey(buf *argon2.Buffer, secret, salt []byte, p Params) []byte {
	if p.Memory > h.params().Memory {
		buf = nil // allocates afresh, freed after the call
	}
	return buf.IDKey(secret, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// dummies caches one dummy hash per Params value (Params is comparable).
var dummies sync.Map // Params -> string

// DummyVerify spends the same time as a Verify against a hash made with
// h's parameters, and always fails. Call it when the account is unknown so
// that the response time does not reveal whether an email is registered.
// It runs under the process-wide bound like Verify and returns ErrBusy
// when a Verify would have; callers answer that exactly as they answer a
// Verify's ErrBusy, so a busy server tells nobody whether an account
// exists. The dummy hash is a random salt and a random key, made once per
// parameter set: no secret ever derives it, so nothing can match it.
func (h Hasher) DummyVerify(secret string) error { return h.dummyVerify(secret, inSlot) }

// dummyVerify is DummyVerify with run giving the hashing slot.
func (h Hasher) dummyVerify(secret string, run func(func(*argon2.Buffer)) error) error {
	p := h.params()
	v, ok := dummies.Load(p)
	if !ok {
		v, _ = dummies.LoadOrStore(p, dummyPHC(p))
	}
	_, _, err := h.verify(secret, v.(string), run)
	if errors.Is(err, ErrBusy) {
		return err
	}
	return nil
}

// dummyPHC is a well-formed hash with parameters p that no secret matches
// (or an unparsable one when p is invalid, which Verify refuses at once,
// as it would a real hash with those parameters).
func dummyPHC(p Params) string {
	salt := make([]byte, max(p.SaltLen, minSaltLen))
	key := make([]byte, max(p.KeyLen, minKeyLen))
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	return encodePHC(p, salt, key)
}

func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: parallelism must be at least 1", ErrInvalidParams)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("%w: memory must be at least 8 KiB per thread", ErrInvalidParams)
	case p.Memory > maxMemoryKiB:
		return fmt.Errorf("%w: memory must be at most %d KiB", ErrInvalidParams, maxMemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time must be between 1 and %d", ErrInvalidParams, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length must be between %d and %d bytes", ErrInvalidParams, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length must be between %d and %d bytes", ErrInvalidParams, minKeyLen, maxKeyLen)
	}
	return nil
}

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$%s$m=%d,t=%d,p=%d$%s$%s",
		algorithm, versionTag, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC strictly parses
// $argon2id$v=19$m=<uint>,t=<uint>,p=<uint>$<salt>$<key>.
func decodePHC(phc string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: expected 5 '$'-separated fields", ErrMalformedHash)
	}
	if parts[1] != algorithm {
		return p, nil, nil, ErrUnsupportedAlgorithm
	}
	if parts[2] != versionTag {
		if strings.HasPrefix(parts[2], "v=") {
			return p, nil, nil, ErrUnsupportedVersion
		}
		return p, nil, nil, fmt.Errorf("%w: missing version", ErrMalformedHash)
	}

	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, fmt.Errorf("%w: expected parameters m, t, p", ErrMalformedHash)
	}
	var vals [3]uint32
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return p, nil, nil, fmt.Errorf("%w: expected parameters m, t, p in that order", ErrMalformedHash)
		}
		n, err := parseDecimal(v)
		if err != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %s is not a valid number", ErrMalformedHash, name)
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, nil, nil, fmt.Errorf("%w: parallelism must be at most 255", ErrInvalidParams)
	}

	salt, err := decodeB64(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt is not unpadded standard base64", ErrMalformedHash)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: key is not unpadded standard base64", ErrMalformedHash)
	}

	p = Params{
		Memory:  vals[0],
		Time:    vals[1],
		Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// decodeB64 decodes canonical unpadded standard base64. The encoding/base64
// decoder silently skips '\r' and '\n', so the alphabet is checked first.
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, base64.CorruptInputError(i)
		}
	}
	return b64.DecodeString(s)
}

// parseDecimal accepts a canonical non-negative decimal that fits in
// uint32: digits only, no sign, no leading zeros.
func parseDecimal(s string) (uint32, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}
