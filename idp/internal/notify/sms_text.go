package notify

import (
	"fmt"
	"net/url"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// CodeSMS is the text of the SMS that carries a one-time code of purpose
// (storage.CodeActivation or storage.CodePhoneChange), valid for ttl. Its
// last line is the origin-bound form "@host #code" of the issuer's host,
// which lets browsers and phones offer the code only to this provider's
// pages (WebOTP; autocomplete="one-time-code").
func CodeSMS(purpose, code string, ttl time.Duration, issuer string) (string, error) {
	var what string
	switch purpose {
	case storage.CodeActivation:
		what = "Your " + Product + " activation code"
	case storage.CodePhoneChange:
		what = "Your " + Product + " code to confirm this number"
	default:
		return "", fmt.Errorf("notify: no SMS text for code purpose %q", purpose)
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("notify: SMS: issuer %q is not a URL", issuer)
	}
	return fmt.Sprintf("%s: %s\nIt expires in %s. Never share it: %s staff will never ask for it.\n\n@%s #%s",
		what, code, HumanDuration(ttl), Product, u.Host, code), nil
}
