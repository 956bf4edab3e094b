package storagetest

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testSigningKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	key := func(id string, created, expire time.Time) storage.SigningKey {
		return storage.SigningKey{
			ID: id, Algorithm: "RS256",
			PrivateKey: []byte{0x00, 0x01, 0xfe, 0xff, byte(len(id))},
			PublicKey:  []byte("0\x82\x01\"0\r\x06\t*" + id),
			CreatedAt:  created, ActivateAt: created.Add(time.Hour), ExpireAt: expire,
		}
	}
	old := key("k-old", base.Add(-72*time.Hour), base.Add(-time.Hour)) // expired
	current := key("k-current", base.Add(-24*time.Hour), base.Add(48*time.Hour))
	next := key("k-next", base, time.Time{}) // no expiry set yet
	for _, k := range []storage.SigningKey{next, old, current} {
		must(t, s.CreateSigningKey(ctx, k))
	}
	wantErr(t, "CreateSigningKey(same id)", s.CreateSigningKey(ctx, current), storage.ErrAlreadyExists)

	keys, err := s.ListSigningKeys(ctx, base)
	must(t, err)
	equal(t, "ListSigningKeys: unexpired, oldest first", keys, []storage.SigningKey{current, next})

	// Expiry moves: the current key leaves at base+1m, the next gets one.
	must(t, s.UpdateSigningKeyExpiry(ctx, "k-current", base.Add(time.Minute)))
	must(t, s.UpdateSigningKeyExpiry(ctx, "k-next", base.Add(90*24*time.Hour)))
	next.ExpireAt = base.Add(90 * 24 * time.Hour)
	keys, err = s.ListSigningKeys(ctx, base.Add(time.Minute))
	must(t, err)
	equal(t, "ListSigningKeys after expiry updates", keys, []storage.SigningKey{next})
	wantErr(t, "UpdateSigningKeyExpiry(unknown)", s.UpdateSigningKeyExpiry(ctx, "nope", base), storage.ErrNotFound)
}
