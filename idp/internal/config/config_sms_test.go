package config

import (
	"strings"
	"testing"
)

func TestSMSSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string // the setting the error names; "" for none
	}{
		{"default", nil, ""},
		{"webhook", map[string]string{"IDP_SMS_URL": "https://sms.example.com/send", "IDP_SMS_TOKEN": "t0ken"}, ""},
		{"loopback http webhook", map[string]string{"IDP_SMS_URL": "http://127.0.0.1:9000/sms", "IDP_SMS_TOKEN": "t"}, ""},
		{"plain http elsewhere", map[string]string{"IDP_SMS_URL": "http://sms.example.com/send", "IDP_SMS_TOKEN": "t"}, "IDP_SMS_URL"},
		{"webhook without token", map[string]string{"IDP_SMS_URL": "https://sms.example.com/send"}, "IDP_SMS_TOKEN"},
		{"credentials in the webhook URL", map[string]string{"IDP_SMS_URL": "https://u:s3cr3t-pw@sms.example.com/", "IDP_SMS_TOKEN": "t"}, "IDP_SMS_URL"},
		{"other scheme", map[string]string{"IDP_SMS_URL": "ftp://sms.example.com/"}, "IDP_SMS_URL"},
		{"twilio", map[string]string{"IDP_SMS_URL": "twilio://AC0123:s3cr3t-pw@+14155550123"}, ""},
		{"twilio without token", map[string]string{"IDP_SMS_URL": "twilio://AC0123@+14155550123"}, "IDP_SMS_URL"},
		{"twilio bad sender", map[string]string{"IDP_SMS_URL": "twilio://AC0123:s3cr3t-pw@4155550123"}, "IDP_SMS_URL"},
		{"twilio base over http", map[string]string{"IDP_TWILIO_BASE_URL": "http://api.example.com"}, "IDP_TWILIO_BASE_URL"},
		{"twilio base on loopback", map[string]string{"IDP_TWILIO_BASE_URL": "http://127.0.0.1:8123/"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env), nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.TwilioBaseURL == "" || strings.HasSuffix(c.TwilioBaseURL, "/") {
					t.Fatalf("TwilioBaseURL %q", c.TwilioBaseURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Fatalf("err = %v: want one naming %s without the secret", err, tc.wantErr)
			}
		})
	}
}

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+14155550123": true, "+2901234": true, "+123456789012345": true,
		"14155550123": false, "+0155550123": false, "+1415555012a": false, "+1234567890123456": false, "+123456": false, "": false,
	} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v", s, got)
		}
	}
}
