package keys

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The signature algorithms a Manager can keep keys for. ID tokens are
// signed RS256 (every OpenID Connect client can verify it); access tokens,
// which only this provider and its modules verify, ES256: a P-256
// signature costs a small fraction of an RSA one (see README, "Signing
// keys").
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// DefaultBits is the RSA modulus size of new RS256 keys: 2048 bits is
// 112-bit strength, what NIST SP 800-57 accepts through 2030 and what the
// major providers sign ID tokens with. Larger keys already stored stay in
// use until they are rotated out.
const DefaultBits = 2048

// DefaultCacheTTL is how long a Manager trusts its copy of the key list
// before reading the store again. Scheduled activations need no reload: the
// signing key is chosen from the cached list at the current time.
const DefaultCacheTTL = time.Minute

// DefaultUnknownKIDReload is the least time between two store reads made
// because a token named a key id the cached list does not know.
const DefaultUnknownKIDReload = 5 * time.Second

// ErrNoSigningKey: the store holds no key that may sign now (Ensure has
// not run yet).
var ErrNoSigningKey = errors.New("keys: no signing key (run Ensure)")

// ErrUnknownKey: no published key has the key id asked for.
var ErrUnknownKey = errors.New("keys: unknown key id")

// Manager keeps the signing keys in the store. Several replicas may run
// Managers against one database: every decision is derived from the stored
// keys and the clock, so they converge on the same signing key.
//
// Rules, for keys not yet expired:
//   - a key may sign at t only when it has no ExpireAt yet or one later
//     than t+Grace(), so that everything it signs stays verifiable while
//     it is published;
//   - the signing key is the eligible key with the newest ActivateAt <= t
//     (ties: smallest ID); when there is none, the eligible key with the
//     earliest future ActivateAt (a published next key activated early by
//     Rotate);
//   - a "next" key is an eligible key activating after the signing key;
//     Ensure keeps one published.
//
// A Manager keeps the keys of one algorithm (Algorithm) and ignores the
// stored keys of others; Set pairs the ID token and access token Managers.
//
// The zero value is not usable: set Store, KEK, Rotation and Lifetime. Use a
// Manager through a pointer; it caches parsed keys.
type Manager struct {
	Store storage.Storage
	// Algorithm is what the keys sign with: RS256 (the default when empty)
	// or ES256 (P-256).
	Algorithm string
	// KEK encrypts private keys at rest (AES-256-GCM, key id as AAD).
	KEK []byte
	// Rotation is how long a key signs before its successor takes over.
	Rotation time.Duration
	// Lifetime is the longest lifetime of anything signed (access, ID and
	// logout tokens): a retired key stays published this long (plus
	// CacheTTL) so that its tokens can still be verified.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Bits is the RSA modulus size of new RS256 keys; 0 means DefaultBits.
	Bits int
	// CacheTTL bounds how stale the cached key list may be; 0 means
	// DefaultCacheTTL.
	CacheTTL time.Duration
	// UnknownKIDReload is the least time between store reads for a key id
	// the cache does not know (PublicKey); 0 means DefaultUnknownKIDReload.
	// Anyone can send a token with a made-up kid: without this bound every
	// such request would be a database query.
	UnknownKIDReload time.Duration
	// Logger gets one line per key created or retired; nil discards.
	Logger *slog.Logger

	mu     sync.Mutex
	cache  []*entry  // guarded by mu
	loaded time.Time // when cache was read; guarded by mu
	// refreshMu lets one caller at a time read the store for the cache
	// (refresh); the others wait and then find the cache fresh, so a burst
	// of requests costs one read, not one each.
	refreshMu sync.Mutex
}

// entry is one stored key with its parsed material.
type entry struct {
	meta storage.SigningKey // PrivateKey holds the sealed bytes
	pub  crypto.PublicKey   // *rsa.PublicKey or *ecdsa.PublicKey, parsed once
	priv crypto.Signer      // decrypted on first use
}

// alg is the algorithm of m's keys.
func (m *Manager) alg() string {
	if m.Algorithm == "" {
		return RS256
	}
	return m.Algorithm
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) unknownKIDReload() time.Duration {
	if m.UnknownKIDReload > 0 {
		return m.UnknownKIDReload
	}
	return DefaultUnknownKIDReload
}

func (m *Manager) cacheTTL() time.Duration {
	if m.CacheTTL > 0 {
		return m.CacheTTL
	}
	return DefaultCacheTTL
}

// Grace is how long a retired key stays published: Lifetime plus the time a
// replica may keep signing with a cached key list.
func (m *Manager) Grace() time.Duration { return m.Lifetime + m.cacheTTL() }

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Manager) check() error {
	switch {
	case m.Store == nil:
		return errors.New("keys: Manager.Store is nil")
	case len(m.KEK) != KEKSize:
		return fmt.Errorf("keys: Manager.KEK has %d bytes, want %d", len(m.KEK), KEKSize)
	case m.Rotation <= 0:
		return errors.New("keys: Manager.Rotation must be positive")
	case m.Lifetime <= 0:
		return errors.New("keys: Manager.Lifetime must be positive")
	case m.alg() != RS256 && m.alg() != ES256:
		return fmt.Errorf("keys: Manager.Algorithm %q: want %s or %s", m.Algorithm, RS256, ES256)
	}
	return nil
}

// Ensure makes sure that a key may sign now and that a next key is
// published, and retires keys that have been superseded. It is idempotent
// and safe to run from several replicas at once: keys created for the same
// activation time get the same id, so only one insert wins.
func (m *Manager) Ensure(ctx context.Context) error {
	if err := m.check(); err != nil {
		return err
	}
	now := m.now()
	list, err := m.reload(ctx, now)
	if err != nil {
		return err
	}
	signer := pick(list, now, m.Grace())
	if signer == nil {
		at := now.UTC().Truncate(time.Minute)
		if err := m.create(ctx, at, now, list); err != nil {
			return err
		}
		if list, err = m.reload(ctx, now); err != nil {
			return err
		}
		if signer = pick(list, now, m.Grace()); signer == nil {
			return ErrNoSigningKey
		}
	}
	// Retire what the signing key superseded.
	for _, e := range list {
		k := e.meta
		if k.ID == signer.meta.ID || !eligible(k, now, m.Grace()) || k.ActivateAt.After(now) {
			continue
		}
		exp := signer.meta.ActivateAt.Add(m.Grace())
		if err := m.Store.UpdateSigningKeyExpiry(ctx, k.ID, exp); err != nil {
			return fmt.Errorf("keys: retiring key %s: %w", k.ID, err)
		}
		m.logger().Info("signing key retired", "kid", k.ID, "expires", exp)
	}
	// Publish a next key.
	if next(list, signer, now, m.Grace()) == nil {
		at := signer.meta.ActivateAt
		if at.Before(now) {
			// Leave the next key published for at least a quarter period.
			for !at.After(now.Add(m.Rotation / 4)) {
				at = at.Add(m.Rotation)
			}
		} else {
			at = at.Add(m.Rotation)
		}
		if err := m.create(ctx, at.UTC().Truncate(time.Second), now, list); err != nil {
			return err
		}
	}
	if _, err := m.reload(ctx, now); err != nil {
		return err
	}
	// Fail here, not at the first sign-in, when the KEK is wrong.
	_, _, err = m.Signing(ctx)
	return err
}

// Rotate makes the published next key the signing key now, publishes a new
// next key, and retires the old signing key: it stays published for Grace()
// and then leaves the JWKS. Other replicas follow within CacheTTL.
func (m *Manager) Rotate(ctx context.Context) (newKID string, err error) {
	if err := m.Ensure(ctx); err != nil {
		return "", err
	}
	now := m.now()
	list, err := m.reload(ctx, now)
	if err != nil {
		return "", err
	}
	old := pick(list, now, m.Grace())
	if old == nil || next(list, old, now, m.Grace()) == nil {
		return "", ErrNoSigningKey
	}
	exp := now.Add(m.Grace())
	if err := m.Store.UpdateSigningKeyExpiry(ctx, old.meta.ID, exp); err != nil {
		return "", fmt.Errorf("keys: retiring key %s: %w", old.meta.ID, err)
	}
	m.logger().Info("signing key rotated out", "kid", old.meta.ID, "expires", exp)
	if err := m.Ensure(ctx); err != nil {
		return "", err
	}
	k, _, err := m.Signing(ctx)
	if err != nil {
		return "", err
	}
	return k.ID, nil
}

// Signing returns the key to sign with now and its private key
// (*rsa.PrivateKey for RS256, *ecdsa.PrivateKey for ES256). It reads the
// store at most once per CacheTTL.
func (m *Manager) Signing(ctx context.Context) (storage.SigningKey, crypto.Signer, error) {
	now := m.now()
	list, err := m.cached(ctx, now)
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	e := pick(list, now, m.Grace())
	if e == nil {
		return storage.SigningKey{}, nil, ErrNoSigningKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.priv == nil {
		der, err := Open(m.KEK, e.meta.PrivateKey, []byte(e.meta.ID))
		if err != nil {
			return storage.SigningKey{}, nil, fmt.Errorf("keys: signing key %s: %w", e.meta.ID, err)
		}
		pk, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return storage.SigningKey{}, nil, fmt.Errorf("keys: signing key %s: parsing PKCS#8: %w", e.meta.ID, err)
		}
		signer, ok := pk.(crypto.Signer)
		if !ok || !matches(e.meta.Algorithm, signer.Public()) {
			return storage.SigningKey{}, nil, fmt.Errorf("keys: signing key %s is not an %s key", e.meta.ID, e.meta.Algorithm)
		}
		e.priv = signer
	}
	meta := e.meta
	meta.PrivateKey = nil
	return meta, e.priv, nil
}

// Public returns the public keys to publish: the signing key, the next key
// and retired keys that have not expired, oldest activation first. No
// private parameters ever appear in them.
func (m *Manager) Public(ctx context.Context) ([]jose.JSONWebKey, error) {
	now := m.now()
	list, err := m.cached(ctx, now)
	if err != nil {
		return nil, err
	}
	return published(list, now), nil
}

// PublicKey returns the published key with id kid, or ErrUnknownKey. A kid
// the cached list lacks may have been published by another replica since,
// so the store is read again — but at most once per UnknownKIDReload,
// whoever asks and however many ask at once: tokens with made-up key ids
// cost no more than one query per interval.
func (m *Manager) PublicKey(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	e, err := m.lookup(ctx, kid)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	return e.jwk(), nil
}

// lookup is PublicKey's search: the published entry with id kid.
func (m *Manager) lookup(ctx context.Context, kid string) (*entry, error) {
	now := m.now()
	list, err := m.cached(ctx, now)
	if err != nil {
		return nil, err
	}
	if e := findEntry(list, kid, now); e != nil {
		return e, nil
	}
	if list, err = m.refresh(ctx, m.unknownKIDReload()); err != nil {
		return nil, err
	}
	if e := findEntry(list, kid, now); e != nil {
		return e, nil
	}
	return nil, ErrUnknownKey
}

// findEntry is the entry of list with id kid that is published at now.
func findEntry(list []*entry, kid string, now time.Time) *entry {
	for _, e := range list {
		if e.meta.ID == kid && isPublished(e, now) {
			return e
		}
	}
	return nil
}

// firstActivation is the earliest ActivateAt of m's stored keys, zero
// when there are none.
func (m *Manager) firstActivation(ctx context.Context) (time.Time, error) {
	list, err := m.cached(ctx, m.now())
	if err != nil || len(list) == 0 {
		return time.Time{}, err
	}
	return list[0].meta.ActivateAt, nil // sorted by ActivateAt
}

// published is the JWKS view of list at now: keys not yet expired.
func published(list []*entry, now time.Time) []jose.JSONWebKey {
	out := make([]jose.JSONWebKey, 0, len(list))
	for _, e := range list {
		if isPublished(e, now) {
			out = append(out, e.jwk())
		}
	}
	return out
}

// isPublished reports whether e is in the JWKS at now: it has not expired.
func isPublished(e *entry, now time.Time) bool {
	return e.meta.ExpireAt.IsZero() || e.meta.ExpireAt.After(now)
}

// jwk is e's public key as the JWKS publishes it.
func (e *entry) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: e.pub, KeyID: e.meta.ID, Algorithm: e.meta.Algorithm, Use: "sig"}
}

// Invalidate drops the cached key list; the next call reads the store.
func (m *Manager) Invalidate() {
	m.mu.Lock()
	m.cache, m.loaded = nil, time.Time{}
	m.mu.Unlock()
}

func (m *Manager) cached(ctx context.Context, now time.Time) ([]*entry, error) {
	if list, ok := m.fresh(now, m.cacheTTL()); ok {
		return list, nil
	}
	return m.refresh(ctx, m.cacheTTL())
}

// fresh returns the cached list if it was read less than maxAge before now.
func (m *Manager) fresh(now time.Time, maxAge time.Duration) ([]*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cache != nil && !now.Before(m.loaded) && now.Before(m.loaded.Add(maxAge)) {
		return m.cache, true
	}
	return nil, false
}

// refresh reads the store unless the cache is younger than maxAge. Callers
// take turns: those that waited for another's read use its result (the
// clock is read after the wait, so that read counts as fresh).
func (m *Manager) refresh(ctx context.Context, maxAge time.Duration) ([]*entry, error) {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	now := m.now()
	if list, ok := m.fresh(now, maxAge); ok {
		return list, nil
	}
	return m.reload(ctx, now)
}

// reload reads the keys from the store and replaces the cache, keeping
// private keys already decrypted.
func (m *Manager) reload(ctx context.Context, now time.Time) ([]*entry, error) {
	stored, err := m.Store.ListSigningKeys(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("keys: listing signing keys: %w", err)
	}
	m.mu.Lock()
	old := make(map[string]*entry, len(m.cache))
	for _, e := range m.cache {
		old[e.meta.ID] = e
	}
	m.mu.Unlock()
	list := make([]*entry, 0, len(stored))
	for _, k := range stored {
		if k.Algorithm != m.alg() {
			continue // another Manager's
		}
		pub, err := x509.ParsePKIXPublicKey(k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("keys: public key %s: %w", k.ID, err)
		}
		if !matches(k.Algorithm, pub) {
			return nil, fmt.Errorf("keys: public key %s is not an %s key", k.ID, k.Algorithm)
		}
		e := &entry{meta: k, pub: pub}
		if o := old[k.ID]; o != nil && o.priv != nil && o.meta.ActivateAt.Equal(k.ActivateAt) {
			e.priv = o.priv
		}
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b *entry) int {
		return cmp.Or(a.meta.ActivateAt.Compare(b.meta.ActivateAt), cmp.Compare(a.meta.ID, b.meta.ID))
	})
	m.mu.Lock()
	m.cache, m.loaded = list, now
	m.mu.Unlock()
	return list, nil
}

// create generates and stores a key activating at `at`. Its id is derived
// from the activation time, so replicas racing to create the same key
// collide and one insert wins (ErrAlreadyExists is success). When that id
// is taken by a key that cannot serve (retired early by Rotate), a random
// suffix is added.
func (m *Manager) create(ctx context.Context, at, now time.Time, list []*entry) error {
	id := kidFor(m.alg(), at, "")
	for _, e := range list {
		if e.meta.ID == id && !eligible(e.meta, now, m.Grace()) {
			var b [4]byte
			_, _ = rand.Read(b[:])
			id = kidFor(m.alg(), at, hex.EncodeToString(b[:]))
		}
	}
	priv, err := m.generate()
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("keys: encoding private key: %w", err)
	}
	sealed, err := Seal(m.KEK, der, []byte(id))
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("keys: encoding public key: %w", err)
	}
	k := storage.SigningKey{
		ID:         id,
		Algorithm:  m.alg(),
		PrivateKey: sealed,
		PublicKey:  pub,
		CreatedAt:  now.UTC(),
		ActivateAt: at.UTC(),
		// ExpireAt stays zero (no expiry) until a successor supersedes it.
	}
	err = m.Store.CreateSigningKey(ctx, k)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		m.logger().Debug("signing key created by another replica", "kid", id)
	case err != nil:
		return fmt.Errorf("keys: storing signing key %s: %w", id, err)
	default:
		m.logger().Info("signing key created", "kid", id, "activates", k.ActivateAt)
	}
	return nil
}

// generate makes a new private key of m's algorithm.
func (m *Manager) generate() (crypto.Signer, error) {
	if m.alg() == ES256 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generating P-256 key: %w", err)
		}
		return k, nil
	}
	bits := m.Bits
	if bits == 0 {
		bits = DefaultBits
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("keys: generating RSA key: %w", err)
	}
	return k, nil
}

// matches reports whether pub is a key of algorithm alg: an RSA key for
// RS256, a P-256 key for ES256.
func matches(alg string, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return alg == RS256
	case *ecdsa.PublicKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	}
	return false
}

// kidFor names the key of algorithm alg activating at `at`: readable,
// sortable, and the same on every replica.
func kidFor(alg string, at time.Time, suffix string) string {
	id := strings.ToLower(alg) + "-" + at.UTC().Format("20060102T150405Z")
	if suffix != "" {
		id += "-" + suffix
	}
	return id
}

// eligible: the key may sign at now. A zero ExpireAt means "not
// superseded yet".
func eligible(k storage.SigningKey, now time.Time, grace time.Duration) bool {
	return k.ExpireAt.IsZero() || k.ExpireAt.After(now.Add(grace))
}

// pick chooses the signing key at now from list (sorted by ActivateAt, ID).
func pick(list []*entry, now time.Time, grace time.Duration) *entry {
	var best *entry
	for _, e := range list {
		if eligible(e.meta, now, grace) && !e.meta.ActivateAt.After(now) {
			if best == nil || e.meta.ActivateAt.After(best.meta.ActivateAt) {
				best = e
			}
		}
	}
	if best != nil {
		return best
	}
	for _, e := range list {
		if eligible(e.meta, now, grace) {
			return e // earliest future activation
		}
	}
	return nil
}

// next returns the published key that will take over from signer.
func next(list []*entry, signer *entry, now time.Time, grace time.Duration) *entry {
	for _, e := range list {
		if e != signer && eligible(e.meta, now, grace) &&
			e.meta.ActivateAt.After(now) && e.meta.ActivateAt.After(signer.meta.ActivateAt) {
			return e
		}
	}
	return nil
}
