package signin

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// maxEmailLen bounds the identifier that is counted under its own throttle
// key. No address is longer (RFC 5321 allows 254); longer input is refused
// as invalid credentials and counted against the source only, so nobody can
// fill the throttle table with huge keys.
const maxEmailLen = 320

// NormalizeEmail is how sign-in compares and counts emails: surrounding
// space removed, lower-cased.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// AccountKey is the throttle key counting failures for an email, whether or
// not an account has it. Unlocking an account means resetting this key.
func AccountKey(email string) string { return "account:" + NormalizeEmail(email) }

// SourceKey is the throttle key counting failures from a client address.
// IPv6 addresses are counted per /64, the block one subscriber usually
// gets, so that rotating through it does not escape the limit. Input that
// is not an IP address is used as it is.
func SourceKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "ip:" + addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + ip.String()
}

// emailRef identifies an email in logs without writing it out: the first
// 12 hex digits of the SHA-256 of its normalized form.
func emailRef(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return hex.EncodeToString(sum[:6])
}
