package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ChannelSMS is the storage.Message channel of text messages.
const ChannelSMS = "sms"

// MaxSMSLength bounds an SMS body, in characters: ten concatenated
// segments, more than any message of ours needs.
const MaxSMSLength = 1600

// SMS is one text message. The body may carry a one-time code.
type SMS struct {
	To   string `json:"to"`   // E.164
	Body string `json:"body"` // plain text
}

// LogValue keeps the body out of logs.
func (s SMS) LogValue() slog.Value { return slog.GroupValue(slog.String("to", s.To)) }

// SMSSender delivers one SMS. An error means it was not delivered: a
// Permanent one is never tried again, any other may be. Implementations
// are safe for concurrent use and never log or return the body.
type SMSSender interface {
	SendSMS(ctx context.Context, s SMS) error
}

// permanent marks an error that retrying cannot fix (the gateway refused
// the message: a 4xx other than 429, an unusable number).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as a failure no retry can fix: the worker marks the
// message failed at once.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// SealSMS checks s and seals it as EnqueueSMS stores it, without storing:
// EnqueueSMS's work short of the write (the account use cases spend it on
// unknown numbers too, so that both take as long).
func (o *Outbox) SealSMS(s SMS) ([]byte, error) {
	if !config.IsE164(s.To) {
		return nil, errors.New("notify: SMS recipient is not an E.164 number")
	}
	if s.Body == "" || !utf8.ValidString(s.Body) || utf8.RuneCountInString(s.Body) > MaxSMSLength {
		return nil, fmt.Errorf("notify: SMS body must be 1–%d characters of text", MaxSMSLength)
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("notify: encoding SMS: %w", err)
	}
	sealed, err := keys.Seal(o.key[:], plain, sealAAD(ChannelSMS, s.To))
	if err != nil {
		return nil, fmt.Errorf("notify: sealing SMS: %w", err)
	}
	return sealed, nil
}

// EnqueueSMS seals s and stores it as a pending SMS, due at once, through
// tx (see Enqueue: pass the transaction of the change it is about).
func (o *Outbox) EnqueueSMS(ctx context.Context, tx storage.Storage, s SMS) error {
	sealed, err := o.SealSMS(s)
	if err != nil {
		return err
	}
	if _, err := tx.EnqueueMessage(ctx, storage.Message{Channel: ChannelSMS, To: s.To, Body: sealed}); err != nil {
		return fmt.Errorf("notify: enqueueing SMS: %w", err)
	}
	return nil
}

// OpenSMS unseals a claimed SMS; it fails as Open does.
func (o *Outbox) OpenSMS(m storage.Message) (SMS, error) {
	var s SMS
	if m.Channel != ChannelSMS {
		return s, fmt.Errorf("notify: message %d is %q, not an SMS", m.ID, m.Channel)
	}
	err := o.open(m, &s)
	return s, err
}

// open unseals m's body into v.
func (o *Outbox) open(m storage.Message, v any) error {
	if len(m.Body) == 0 {
		return fmt.Errorf("notify: message %d has no body", m.ID)
	}
	plain, err := keys.Open(o.key[:], m.Body, sealAAD(m.Channel, m.To))
	if err != nil {
		return fmt.Errorf("notify: opening message %d: %w", m.ID, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("notify: decoding message %d: %w", m.ID, err)
	}
	return nil
}

// NewSMSSender returns the SMS sender the configuration asks for:
//
//   - IDP_SMS_URL=https://… (or http:// to a loopback host): a
//     WebhookSender posting to it with IDP_SMS_TOKEN;
//   - IDP_SMS_URL=twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER: a
//     TwilioSender against IDP_TWILIO_BASE_URL;
//   - no IDP_SMS_URL on a loopback issuer (or with IDP_MAIL_FILE): a
//     FileSMSSender writing into <DataDir>/sms;
//   - no IDP_SMS_URL otherwise: nil, and SMS cannot be sent (the mobile
//     activation use cases refuse).
func NewSMSSender(cfg config.Config, logger *slog.Logger) (SMSSender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SMSURL == "" {
		// Files hold one-time codes: like file mail, only where nobody
		// else can reach the provider, or in declared development.
		if !cfg.FileMailAllowed() {
			logger.Warn("no IDP_SMS_URL: SMS cannot be sent, so clinicians cannot activate the mobile app")
			return nil, nil
		}
		dir := filepath.Join(cfg.DataDir, "sms")
		logger.Info("no IDP_SMS_URL: SMS are written as files (loopback issuer or IDP_MAIL_FILE)", "dir", dir)
		return &FileSMSSender{Dir: dir, Logger: logger}, nil
	}
	if u, err := url.Parse(cfg.SMSURL); err == nil && u.Scheme == "twilio" {
		s, err := NewTwilioSender(cfg.SMSURL, cfg.TwilioBaseURL)
		if err != nil {
			return nil, err
		}
		logger.Info("SMS are sent through a Twilio-compatible API", "sms", s)
		return s, nil
	}
	s, err := NewWebhookSender(cfg.SMSURL, cfg.SMSToken)
	if err != nil {
		return nil, err
	}
	logger.Info("SMS are posted to a webhook", "sms", s)
	return s, nil
}
