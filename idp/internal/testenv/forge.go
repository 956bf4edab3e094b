package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
)

// Forgery is a token an attacker could make from a genuine one: the same
// claims (so every check but the signature's would pass) under a signature
// the provider did not make.
type Forgery struct {
	Name  string
	Token string
}

// Forgeries returns the classic forgeries of genuine, a compact RS256 or
// ES256 JWT signed by the provider's key pub (*rsa.PublicKey or a P-256
// *ecdsa.PublicKey): its signature altered; its payload altered under the
// old signature; its alg switched under the genuine signature; re-signed
// with another key of the same kind under the provider's kid; alg "none";
// HS256 keyed with the provider's public key (PEM, DER and JWK forms: the
// algorithm confusion attack); and signed by a foreign key that names
// itself (its own kid, embedded jwk).
func Forgeries(t testing.TB, genuine string, pub crypto.PublicKey) []Forgery {
	t.Helper()
	parts := strings.Split(genuine, ".")
	if len(parts) != 3 {
		t.Fatalf("forge: not a compact JWS")
	}
	var header map[string]any
	if err := json.Unmarshal(b64d(t, parts[0]), &header); err != nil {
		t.Fatalf("forge: header: %v", err)
	}
	payload := parts[1]
	kid, _ := header["kid"].(string)
	alg, other := "RS256", "ES256"
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		alg, other = "ES256", "RS256"
	}

	var foreign crypto.Signer
	var err error
	if alg == "ES256" {
		foreign, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		foreign, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	withHeader := func(h map[string]any) string {
		b, _ := json.Marshal(h)
		return b64e(b) + "." + payload
	}
	sign := func(key crypto.Signer, h map[string]any) string {
		signing := withHeader(h)
		sum := sha256.Sum256([]byte(signing))
		var sig []byte
		switch k := key.(type) {
		case *rsa.PrivateKey:
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		case *ecdsa.PrivateKey:
			var r, s *big.Int
			if r, s, err = ecdsa.Sign(rand.Reader, k, sum[:]); err == nil {
				sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return signing + "." + b64e(sig)
	}
	hs256 := func(secret []byte) string {
		signing := withHeader(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		return signing + "." + b64e(m.Sum(nil))
	}

	sig := b64d(t, parts[2])
	sig[0] ^= 0x01

	var claims map[string]any
	if err := json.Unmarshal(b64d(t, payload), &claims); err != nil {
		t.Fatalf("forge: payload: %v", err)
	}
	claims["forged"] = true
	altered, _ := json.Marshal(claims)

	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pubJWK := jwk(pub, kid)
	pubJWKJSON, _ := json.Marshal(pubJWK)

	return []Forgery{
		{"signature altered", parts[0] + "." + payload + "." + b64e(sig)},
		{"payload altered under the genuine signature", parts[0] + "." + b64e(altered) + "." + parts[2]},
		{"alg " + other + " under the genuine signature", withHeader(map[string]any{"alg": other, "typ": "JWT", "kid": kid}) + "." + parts[2]},
		{"re-signed with another key under the provider's kid", sign(foreign, map[string]any{"alg": alg, "typ": "JWT", "kid": kid})},
		{"alg none", withHeader(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "."},
		{"alg none with the genuine signature", withHeader(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + parts[2]},
		{"HS256 keyed with the public key (PEM)", hs256(pemKey)},
		{"HS256 keyed with the public key (DER)", hs256(der)},
		{"HS256 keyed with the public key (JWK)", hs256(pubJWKJSON)},
		{"foreign key with its own kid and embedded jwk", sign(foreign, map[string]any{"alg": alg, "typ": "JWT", "kid": "attacker", "jwk": jwk(foreign.Public(), "attacker")})},
		{"foreign key without kid", sign(foreign, map[string]any{"alg": alg, "typ": "JWT"})},
	}
}

func jwk(pub crypto.PublicKey, kid string) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{
			"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": b64e(k.N.Bytes()), "e": b64e(big.NewInt(int64(k.E)).Bytes()),
		}
	case *ecdsa.PublicKey:
		return map[string]any{
			"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
			"x": b64e(k.X.FillBytes(make([]byte, 32))), "y": b64e(k.Y.FillBytes(make([]byte, 32))),
		}
	}
	panic("forge: unsupported key type")
}

func b64e(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64d(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("forge: base64: %v", err)
	}
	return b
}
