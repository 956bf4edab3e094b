package password

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheap are deliberately weak parameters so most tests run fast.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func cheapHasher() Hasher { return Hasher{}.WithParams(cheap) }

func TestDefaultParamsMeetOWASP(t *testing.T) {
	p := DefaultParams
	if p.Memory < 19456 || p.Time < 2 || p.Threads < 1 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("DefaultParams %+v are below OWASP's minimum (m=19456, t=2, p=1, salt 16, key 32)", p)
	}
	if NewHasher().Params != DefaultParams {
		t.Fatalf("NewHasher().Params = %+v, want DefaultParams", NewHasher().Params)
	}

	// The zero Hasher must hash with DefaultParams, not with zero params.
	var h Hasher
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(phc, want) {
		t.Fatalf("Hash() = %q, want prefix %q", phc, want)
	}
	ok, rehash, err := NewHasher().Verify("correct horse battery staple", phc)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify() = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

// TestReferenceVector checks interoperability with the argon2 reference
// implementation: argon2 somesalt -id -t 2 -m 16 -p 1 -l 32 <<< "password".
func TestReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher()
	ok, rehash, err := h.Verify("password", ref)
	if err != nil || !ok {
		t.Fatalf("Verify(reference) = %v, %v; want true, nil", ok, err)
	}
	if !rehash {
		t.Error("needsRehash = false for m=65536 and an 8-byte salt, want true")
	}
	if ok, _, _ := h.Verify("Password", ref); ok {
		t.Error("Verify(wrong password, reference) = true")
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := cheapHasher()
	tests := []struct {
		name   string
		secret string
		wrong  []string
	}{
		{"ascii passphrase", "correct horse battery staple", []string{"Correct horse battery staple", "correct horse battery staple ", "correct horse battery stapl", ""}},
		{"unicode", "correct horse battery staple 🐴 ÄÖÜ", []string{"correct horse battery staple 🐴 äöü", "correct horse battery staple 🐴 ÄÖU"}},
		{"unicode NFC vs NFD differ", "Äpfel und Birnen im Körbchen", []string{"A\u0308pfel und Birnen im Ko\u0308rbchen"}},
		{"PIN", "482913", []string{"482914", "48291"}},
		{"256 characters", strings.Repeat("äbc🐴", 64), []string{strings.Repeat("äbc🐴", 63)}},
		{"single character", "x", []string{"y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phc, err := h.Hash(tt.secret)
			if err != nil {
				t.Fatalf("Hash() error: %v", err)
			}
			ok, rehash, err := h.Verify(tt.secret, phc)
			if err != nil || !ok || rehash {
				t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			for _, w := range tt.wrong {
				ok, _, err := h.Verify(w, phc)
				if err != nil {
					t.Fatalf("Verify(wrong %q) error: %v", w, err)
				}
				if ok {
					t.Errorf("Verify(wrong %q) = true", w)
				}
			}
		})
	}
}

func TestHashEmptySecret(t *testing.T) {
	if _, err := cheapHasher().Hash(""); !errors.Is(err, ErrEmptySecret) {
		t.Fatalf("Hash(\"\") error = %v, want ErrEmptySecret", err)
	}
}

func TestPHCFormat(t *testing.T) {
	h := cheapHasher()
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)
	a, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := re.FindStringSubmatch(a), re.FindStringSubmatch(b)
	if ma == nil || mb == nil {
		t.Fatalf("hashes %q and %q do not match %v", a, b, re)
	}
	if ma[1] == mb[1] || ma[2] == mb[2] {
		t.Errorf("two hashes of the same secret share salt or key: %q, %q", a, b)
	}
	for _, m := range [][]string{ma, mb} {
		salt, err := base64.RawStdEncoding.DecodeString(m[1])
		if err != nil || len(salt) != 16 {
			t.Errorf("salt %q: len %d, err %v; want 16 bytes", m[1], len(salt), err)
		}
		key, err := base64.RawStdEncoding.DecodeString(m[2])
		if err != nil || len(key) != 32 {
			t.Errorf("key %q: len %d, err %v; want 32 bytes", m[2], len(key), err)
		}
	}
}

func TestInvalidHasherParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"no threads", Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}},
		{"memory below 8 KiB per thread", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"memory above 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"zero time", Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32}},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := (Hasher{}).WithParams(tt.p).Hash("secret"); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Hash() error = %v, want ErrInvalidParams", err)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := cheapHasher()
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	key := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	mk := func(alg, ver, params, s, k string) string {
		return "$" + alg + "$" + ver + "$" + params + "$" + s + "$" + k
	}
	valid := mk("argon2id", "v=19", "m=64,t=1,p=1", salt, key)
	if _, _, err := h.Verify("x", valid); err != nil {
		t.Fatalf("baseline %q should parse: %v", valid, err)
	}
	b64 := base64.RawStdEncoding.EncodeToString

	tests := []struct {
		name string
		phc  string
		want error
	}{
		{"empty", "", ErrMalformedHash},
		{"garbage", "not a hash", ErrMalformedHash},
		{"no leading dollar", strings.TrimPrefix(valid, "$"), ErrMalformedHash},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt, ErrMalformedHash},
		{"trailing dollar", valid + "$", ErrMalformedHash},
		{"extra field", valid + "$extra", ErrMalformedHash},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"argon2i", mk("argon2i", "v=19", "m=64,t=1,p=1", salt, key), ErrUnsupportedAlgorithm},
		{"argon2d", mk("argon2d", "v=19", "m=64,t=1,p=1", salt, key), ErrUnsupportedAlgorithm},
		{"uppercase algorithm", mk("ARGON2ID", "v=19", "m=64,t=1,p=1", salt, key), ErrUnsupportedAlgorithm},
		{"bcrypt", "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ErrMalformedHash},
		{"version 16", mk("argon2id", "v=16", "m=64,t=1,p=1", salt, key), ErrUnsupportedVersion},
		{"version 0x13", mk("argon2id", "v=0x13", "m=64,t=1,p=1", salt, key), ErrUnsupportedVersion},
		{"version garbage", mk("argon2id", "version=19", "m=64,t=1,p=1", salt, key), ErrMalformedHash},
		{"params out of order", mk("argon2id", "v=19", "t=1,m=64,p=1", salt, key), ErrMalformedHash},
		{"param missing", mk("argon2id", "v=19", "m=64,t=1", salt, key), ErrMalformedHash},
		{"extra param", mk("argon2id", "v=19", "m=64,t=1,p=1,keyid=abc", salt, key), ErrMalformedHash},
		{"spaces in params", mk("argon2id", "v=19", "m=64, t=1, p=1", salt, key), ErrMalformedHash},
		{"non-numeric", mk("argon2id", "v=19", "m=abc,t=1,p=1", salt, key), ErrMalformedHash},
		{"empty value", mk("argon2id", "v=19", "m=,t=1,p=1", salt, key), ErrMalformedHash},
		{"negative", mk("argon2id", "v=19", "m=-64,t=1,p=1", salt, key), ErrMalformedHash},
		{"plus sign", mk("argon2id", "v=19", "m=+64,t=1,p=1", salt, key), ErrMalformedHash},
		{"leading zero", mk("argon2id", "v=19", "m=064,t=1,p=1", salt, key), ErrMalformedHash},
		{"uint32 overflow", mk("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory above 1 GiB", mk("argon2id", "v=19", "m=1048577,t=1,p=1", salt, key), ErrInvalidParams},
		{"memory zero", mk("argon2id", "v=19", "m=0,t=1,p=1", salt, key), ErrInvalidParams},
		{"memory below 8 KiB per thread", mk("argon2id", "v=19", "m=31,t=1,p=4", salt, key), ErrInvalidParams},
		{"time zero", mk("argon2id", "v=19", "m=64,t=0,p=1", salt, key), ErrInvalidParams},
		{"time absurd", mk("argon2id", "v=19", "m=64,t=100000,p=1", salt, key), ErrInvalidParams},
		{"parallelism zero", mk("argon2id", "v=19", "m=64,t=1,p=0", salt, key), ErrInvalidParams},
		{"parallelism above 255", mk("argon2id", "v=19", "m=8192,t=1,p=256", salt, key), ErrInvalidParams},
		{"key shorter than 16 bytes", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, b64([]byte("0123456789abcde"))), ErrInvalidParams},
		{"key absurdly long", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, b64(make([]byte, 1024))), ErrInvalidParams},
		{"salt shorter than 8 bytes", mk("argon2id", "v=19", "m=64,t=1,p=1", b64([]byte("1234567")), key), ErrInvalidParams},
		{"salt empty", mk("argon2id", "v=19", "m=64,t=1,p=1", "", key), ErrInvalidParams},
		{"key empty", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, ""), ErrInvalidParams},
		{"padded base64", mk("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key), ErrMalformedHash},
		{"url-safe base64", mk("argon2id", "v=19", "m=64,t=1,p=1", salt, strings.Repeat("-_", 21)+"A"), ErrMalformedHash},
		{"invalid base64", mk("argon2id", "v=19", "m=64,t=1,p=1", "!!!!!!!!!!", key), ErrMalformedHash},
		{"non-canonical base64", mk("argon2id", "v=19", "m=64,t=1,p=1", salt[:len(salt)-1]+"B", key), ErrMalformedHash},
		{"trailing newline", valid + "\n", ErrMalformedHash},
		{"leading space", " " + valid, ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("x", tt.phc)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%q) error = %v, want %v", tt.phc, err, tt.want)
			}
			if ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v; want false, false on error", tt.phc, ok, rehash)
			}
			if tt.phc != "" && strings.Contains(err.Error(), tt.phc) {
				t.Fatalf("error %q echoes the hash", err)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	old := cheapHasher()
	phc, err := old.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same params", cheap, false},
		{"more memory", Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more time", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more threads", Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"longer salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32}, true},
		{"longer key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
		{"default params", DefaultParams, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := old.WithParams(tt.p).Verify("correct horse battery staple", phc)
			if err != nil || !ok {
				t.Fatalf("Verify() = %v, %v; want true, nil (old hashes must keep verifying)", ok, err)
			}
			if rehash != tt.want {
				t.Fatalf("needsRehash = %v, want %v", rehash, tt.want)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	// Costly enough that argon2 dominates the timing, cheap enough for CI.
	p := Params{Memory: 4096, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := Hasher{}.WithParams(p)

	if err := h.DummyVerify("first call makes the dummy hash"); err != nil {
		t.Fatalf("DummyVerify: %v", err)
	}
	v, ok := dummies.Load(p)
	if !ok {
		t.Fatal("no dummy hash cached for these params")
	}
	first := v.(string)
	if !strings.HasPrefix(first, "$argon2id$v=19$m=4096,t=2,p=1$") {
		t.Fatalf("dummy hash %q was not made with the hasher's params", first)
	}
	_ = h.DummyVerify("second call reuses it")
	if v, _ := dummies.Load(p); v.(string) != first {
		t.Fatal("dummy hash recomputed on second call")
	}

	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	fastest := func(f func()) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	real := fastest(func() { _, _, _ = h.Verify("wrong password", phc) })
	dummy := fastest(func() { _ = h.DummyVerify("wrong password") })
	// Loose bound: the point is that DummyVerify really runs argon2 with
	// the same cost, not a precise timing comparison.
	if dummy < real/3 || dummy > real*3 {
		t.Fatalf("DummyVerify took %v, Verify took %v; want comparable", dummy, real)
	}
}
