package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/config"
)

// DefaultTwilioBaseURL is Twilio's API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// TwilioSender sends SMS through the Messages resource of a
// Twilio-compatible API: a form POST of To, From and Body to
// <base>/2010-04-01/Accounts/<sid>/Messages.json with HTTP basic auth
// (account SID, auth token). Build it with NewTwilioSender.
type TwilioSender struct {
	endpoint string // …/Accounts/<sid>/Messages.json
	sid      string
	token    string // never logged, never in an error
	from     string // E.164
	client   *http.Client
}

// NewTwilioSender reads twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER and the
// API's base URL ("" is DefaultTwilioBaseURL; https, or http to a loopback
// host for tests). Errors never contain the token.
func NewTwilioSender(rawURL, baseURL string) (*TwilioSender, error) {
	const shape = "invalid IDP_SMS_URL: want twilio://ACCOUNT_SID:AUTH_TOKEN@+FROMNUMBER"
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "twilio" || u.User == nil {
		return nil, errors.New(shape)
	}
	token, _ := u.User.Password()
	sid := u.User.Username()
	if sid == "" || token == "" || !config.IsE164(u.Host) {
		return nil, errors.New(shape)
	}
	if baseURL == "" {
		baseURL = DefaultTwilioBaseURL
	}
	b, err := url.Parse(baseURL)
	if err != nil || b.Host == "" || (b.Scheme != "https" && !(b.Scheme == "http" && config.IsLoopback(b.Hostname()))) {
		return nil, errors.New("invalid IDP_TWILIO_BASE_URL: want https:// (plain http to a loopback host only)")
	}
	return &TwilioSender{
		endpoint: strings.TrimRight(baseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(sid) + "/Messages.json",
		sid:      sid, token: token, from: u.Host, client: gatewayClient(),
	}, nil
}

// LogValue names the account and sender, never the token.
func (t *TwilioSender) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account", t.sid), slog.String("from", t.from))
}
func (t *TwilioSender) String() string { return "Twilio account " + t.sid + " from " + t.from }

// SendSMS creates one message.
func (t *TwilioSender) SendSMS(ctx context.Context, s SMS) error {
	form := url.Values{"To": {s.To}, "From": {t.from}, "Body": {s.Body}}
	req, err := http.NewRequest(http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Permanent(errors.New("Twilio: bad URL"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.sid, t.token)
	return sendToGateway(ctx, t.client, req, "Twilio API")
}
