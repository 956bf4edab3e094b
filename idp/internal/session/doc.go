// Package session owns the browser single sign-on session: the cookie that
// tells the provider who is signed in on this browser, and its record in the
// store.
//
// The cookie carries 32 random bytes (base64url); the store keeps only their
// SHA-256 hash (HashID), so a copy of the database cannot be replayed as a
// cookie. A session is valid until it expires (Manager.TTL) or is revoked
// (End, or storage.Storage.RevokeUserGrants). Manager.Current reports the
// valid session of a request, if any, and records activity at most once a
// minute.
package session
