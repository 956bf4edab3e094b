package keys

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKEK(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KEKSize)
	b64 := base64.StdEncoding.EncodeToString(raw)

	t.Run("setting wins over the file", func(t *testing.T) {
		dir := t.TempDir()
		k, err := LoadOrCreateKEK(b64, "", dir)
		if err != nil || !bytes.Equal(k, raw) {
			t.Fatalf("got %x, %v", k, err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("key file written although IDP_SECRET_KEY was set: %v", err)
		}
	})
	t.Run("bad settings are named", func(t *testing.T) {
		for _, v := range []string{"not base64!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
			_, err := LoadOrCreateKEK(v, "", t.TempDir())
			if err == nil || !strings.Contains(err.Error(), "IDP_SECRET_KEY") {
				t.Errorf("%q: err = %v, want one naming IDP_SECRET_KEY", v, err)
			}
		}
	})
	t.Run("file created once, 0600, then reused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		k1, err := LoadOrCreateKEK("", "", dir)
		if err != nil || len(k1) != KEKSize {
			t.Fatalf("create: %x, %v", k1, err)
		}
		fi, err := os.Stat(filepath.Join(dir, KeyFileName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
		k2, err := LoadOrCreateKEK("", "", dir)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("second load gave another key (%v)", err)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".secret.key-*"))
		if len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
	t.Run("group-readable file refused", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFileName)
		if err := os.WriteFile(path, []byte(b64+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateKEK("", "", dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err = %v, want advice to chmod 600", err)
		}
	})
	t.Run("corrupt file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateKEK("", "", dir)
		if err == nil || !strings.Contains(err.Error(), KeyFileName) {
			t.Fatalf("err = %v, want one naming the file", err)
		}
	})
	t.Run("IDP_SECRET_KEY_FILE", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(path, []byte(b64+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
		k, err := LoadOrCreateKEK("", path, dir)
		if err != nil || !bytes.Equal(k, raw) {
			t.Fatalf("got %x, %v", k, err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("key file generated although IDP_SECRET_KEY_FILE was set: %v", err)
		}
		for name, p := range map[string]string{"missing": filepath.Join(dir, "nope"), "group-readable": path} {
			if name == "group-readable" {
				if err := os.Chmod(path, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadOrCreateKEK("", p, dir)
			if err == nil || !strings.Contains(err.Error(), "IDP_SECRET_KEY_FILE") || strings.Contains(err.Error(), b64) {
				t.Errorf("%s file: err = %v, want one naming IDP_SECRET_KEY_FILE without the key", name, err)
			}
			if _, err := os.Stat(p); name == "missing" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a missing IDP_SECRET_KEY_FILE was created")
			}
		}
	})
	t.Run("no setting, no data dir", func(t *testing.T) {
		if _, err := LoadOrCreateKEK("", "", ""); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestSealOpen(t *testing.T) {
	kek := bytes.Repeat([]byte{1}, KEKSize)
	other := bytes.Repeat([]byte{2}, KEKSize)
	sealed, err := Seal(kek, []byte("private key"), []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("private key")) {
		t.Fatal("plaintext visible in sealed data")
	}
	if pt, err := Open(kek, sealed, []byte("kid-1")); err != nil || string(pt) != "private key" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	for name, f := range map[string]func() error{
		"wrong KEK": func() error { _, err := Open(other, sealed, []byte("kid-1")); return err },
		"wrong id":  func() error { _, err := Open(kek, sealed, []byte("kid-2")); return err },
		"truncated": func() error { _, err := Open(kek, sealed[:10], []byte("kid-1")); return err },
	} {
		if err := f(); !errors.Is(err, ErrWrongKEK) {
			t.Errorf("%s: err = %v, want ErrWrongKEK", name, err)
		}
	}
}

func TestDerive(t *testing.T) {
	kek := bytes.Repeat([]byte{3}, KEKSize)
	a1, _ := Derive(kek, "a")
	a2, _ := Derive(kek, "a")
	b, _ := Derive(kek, "b")
	if a1 != a2 || a1 == b {
		t.Fatal("Derive must be deterministic per purpose and differ between purposes")
	}
	if _, err := Derive(kek[:5], "a"); err == nil {
		t.Fatal("short KEK accepted")
	}
}
