package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ChannelEmail is the storage.Message channel of emails.
const ChannelEmail = "email"

// errNoRecipient: an email without To cannot be enqueued.
var errNoRecipient = errors.New("notify: email has no recipient (set Email.To)")

// sealPurpose names the key derived from the KEK for outbox bodies.
const sealPurpose = "outbox"

// Outbox writes emails into the store's durable outbox, sealed, and opens
// them again for delivery. It is safe for concurrent use.
type Outbox struct {
	key [32]byte // derived from the KEK for purpose "outbox"; seals every body
}

// NewOutbox derives the outbox key from the key-encryption key. It fails
// only when kek is not keys.KEKSize bytes long.
func NewOutbox(kek []byte) (*Outbox, error) {
	k, err := keys.Derive(kek, sealPurpose)
	if err != nil {
		return nil, fmt.Errorf("notify: outbox key: %w", err)
	}
	return &Outbox{key: k}, nil
}

// LogValue, String and GoString keep the key out of logs and formatted
// output.
func (o Outbox) LogValue() slog.Value { return slog.StringValue("outbox") }
func (o Outbox) String() string       { return "notify.Outbox" }
func (o Outbox) GoString() string     { return o.String() }

// Enqueue seals e and stores it as a pending email, due at once. Pass the
// tx of the storage.Lifecycle.InTx that makes the change the email is about,
// so both commit or neither does; on any other Storage the message commits
// on its own. e.To must be one address and Subject and Text non-empty.
func (o *Outbox) Enqueue(ctx context.Context, tx storage.Storage, e Email) error {
	if e.To == "" {
		return errNoRecipient
	}
	if a, err := mail.ParseAddress(e.To); err != nil || a.Address != e.To {
		return errors.New("notify: email recipient is not a single plain address")
	}
	if e.Subject == "" || e.Text == "" {
		return errors.New("notify: email has no subject or text")
	}
	plain, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("notify: encoding email: %w", err)
	}
	sealed, err := keys.Seal(o.key[:], plain, sealAAD(ChannelEmail, e.To))
	if err != nil {
		return fmt.Errorf("notify: sealing email: %w", err)
	}
	if _, err := tx.EnqueueMessage(ctx, storage.Message{Channel: ChannelEmail, To: e.To, Body: sealed}); err != nil {
		return fmt.Errorf("notify: enqueueing email: %w", err)
	}
	return nil
}

// Open unseals a claimed email. It fails for another channel, a message
// whose body is gone (sent), or a body sealed under another KEK or for
// another recipient (keys.ErrWrongKEK).
func (o *Outbox) Open(m storage.Message) (Email, error) {
	var e Email
	if m.Channel != ChannelEmail {
		return e, fmt.Errorf("notify: message %d is %q, not an email", m.ID, m.Channel)
	}
	err := o.open(m, &e)
	return e, err
}

// sealAAD binds a sealed body to its channel and recipient, so a body
// copied onto another row does not open.
func sealAAD(channel, to string) []byte {
	return []byte("outbox/" + channel + "/" + to)
}
