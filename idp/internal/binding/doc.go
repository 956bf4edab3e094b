// Package binding ties a pending authorization request to the browser that
// started it.
//
// /authorize gives the browser a random value (256 bits) in an HttpOnly
// cookie, reused while the browser keeps it, and the request stores only
// the value's SHA-256. The sign-in pages that continue a request and the
// callback that mints its code compare the calling browser's cookie with
// the stored hash, in constant time. A request id that travels anywhere
// else — a link sent to a signed-in victim, a poll of the callback with no
// cookie — finds nothing it may finish: the victim's browser does not hold
// the attacker's value, and the attacker's client does not hold the
// victim's.
package binding
