package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/cliniconnects/identity/idp/internal/config"
)

// WebhookSender posts each SMS as JSON {"to": "+14155550123", "body": "…"}
// to a URL of the operator's gateway, with "Authorization: Bearer <token>".
// Build it with NewWebhookSender.
type WebhookSender struct {
	url    string
	host   string // for logs: the URL's path may be a secret
	token  string // never logged, never in an error
	client *http.Client
}

// NewWebhookSender checks rawURL (https, or http to a loopback host) and
// token (required).
func NewWebhookSender(rawURL, token string) (*WebhookSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, errors.New("invalid IDP_SMS_URL: want an https:// URL without credentials")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && config.IsLoopback(u.Hostname())) {
		return nil, errors.New("invalid IDP_SMS_URL: want https:// (plain http to a loopback host only)")
	}
	if token == "" {
		return nil, errors.New("invalid IDP_SMS_TOKEN: required with a webhook IDP_SMS_URL")
	}
	return &WebhookSender{url: rawURL, host: u.Host, token: token, client: gatewayClient()}, nil
}

// LogValue names the gateway's host only.
func (w *WebhookSender) LogValue() slog.Value { return slog.StringValue("webhook " + w.host) }
func (w *WebhookSender) String() string       { return "SMS webhook at " + w.host }

// SendSMS posts s.
func (w *WebhookSender) SendSMS(ctx context.Context, s SMS) error {
	body, err := json.Marshal(s)
	if err != nil {
		return Permanent(fmt.Errorf("encoding SMS: %w", err))
	}
	req, err := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("SMS webhook: bad URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.token)
	return sendToGateway(ctx, w.client, req, "SMS webhook "+w.host)
}
