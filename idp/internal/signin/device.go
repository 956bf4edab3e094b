package signin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/keys"
)

// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
// Cookies"): a browser in which a user signed in successfully gets a
// cookie naming that user and a random nonce, signed with a key derived from
// the KEK. Failed sign-ins that present a valid device cookie for the
// account count against that device alone ("device:<nonce>"); all others
// share the account's counter, whose lock therefore shuts out strangers but
// not the browsers the user has signed in with before.
const (
	// DeviceCookieName is the cookie's name over plain HTTP (development).
	DeviceCookieName = "cc_device"
	// SecureDeviceCookieName is its name over HTTPS: __Host- makes the
	// browser insist on Secure, Path=/ and no Domain.
	SecureDeviceCookieName = "__Host-cc_device"
	// DefaultDeviceTTL is how long a browser stays trusted after its last
	// successful sign-in.
	DefaultDeviceTTL = 365 * 24 * time.Hour

	deviceVersion  = "d1"
	deviceNonceLen = 16  // bytes: 128 bits
	maxDeviceValue = 512 // longer values are not ours
	devicePurpose  = "device-cookie"
)

// Devices issues and recognises device cookies. Build it with NewDevices;
// a nil *Devices issues none and recognises none (every attempt is then
// counted against the account).
type Devices struct {
	key    [32]byte // HMAC-SHA256 key, derived from the KEK: the same on every replica
	secure bool
	ttl    time.Duration
}

// NewDevices derives the cookie key from kek. secure (an https issuer)
// names the cookie SecureDeviceCookieName and marks it Secure.
func NewDevices(kek []byte, secure bool) (*Devices, error) {
	k, err := keys.Derive(kek, devicePurpose)
	if err != nil {
		return nil, fmt.Errorf("signin: device cookie key: %w", err)
	}
	return &Devices{key: k, secure: secure, ttl: DefaultDeviceTTL}, nil
}

func (d *Devices) name() string {
	if d.secure {
		return SecureDeviceCookieName
	}
	return DeviceCookieName
}

// Value is the device cookie r carries, "" when none.
func (d *Devices) Value(r *http.Request) string {
	if d == nil {
		return ""
	}
	c, err := r.Cookie(d.name())
	if err != nil {
		return ""
	}
	return c.Value
}

// Issue sets a new device cookie for userID on w: HttpOnly, SameSite=Strict,
// Secure and __Host- on https, valid for DefaultDeviceTTL.
func (d *Devices) Issue(w http.ResponseWriter, userID string) {
	if d == nil {
		return
	}
	nonce := make([]byte, deviceNonceLen)
	_, _ = rand.Read(nonce) // never fails
	payload := deviceVersion + "." + b64(userID) + "." + b64(string(nonce))
	http.SetCookie(w, &http.Cookie{
		Name:     d.name(),
		Value:    payload + "." + b64(string(d.mac(payload))),
		Path:     "/",
		MaxAge:   int(d.ttl / time.Second),
		HttpOnly: true,
		Secure:   d.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// trusted returns the nonce of value when value is a device cookie this
// provider issued for userID, "" otherwise (none, forged, altered, another
// user's, signed with another KEK).
func (d *Devices) trusted(value, userID string) string {
	if d == nil || value == "" || len(value) > maxDeviceValue || userID == "" {
		return ""
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return ""
	}
	payload := value[:i]
	mac, err := base64.RawURLEncoding.DecodeString(value[i+1:])
	if err != nil {
		return ""
	}
	if !hmac.Equal(mac, d.mac(payload)) {
		return ""
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != deviceVersion || parts[1] != b64(userID) || parts[2] == "" {
		return ""
	}
	return parts[2]
}

func (d *Devices) mac(payload string) []byte {
	h := hmac.New(sha256.New, d.key[:])
	h.Write([]byte(payload))
	return h.Sum(nil)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// DeviceKey is the throttle key counting failures from one trusted browser.
func DeviceKey(nonce string) string { return "device:" + nonce }
