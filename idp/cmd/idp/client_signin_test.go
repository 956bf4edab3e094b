package main

import (
	"regexp"
	"strings"
	"testing"
)

// idp client add --sign-in phone registers a phone sign-in client that
// admits clinicians only; anything else is refused with one line.
func TestClientAddSignInPhone(t *testing.T) {
	c := newCLI(t)
	code, out, errs := c.run("", "client", "add", "--id", "mobile", "--public",
		"--redirect-uri", "com.cliniconnects.mobile:/callback", "--sign-in", "phone")
	if code != 0 || !strings.Contains(out, "registered public client mobile (sign-in: phone)") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	code, out, _ = c.run("", "client", "list")
	if code != 0 || !strings.Contains(out, "SIGN-IN") || !regexpLine(out, `^mobile\s+public\s+phone\s+.*clinician$`) {
		t.Fatalf("client list:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sign-in", "face"}, `"face" is not a sign-in method`},
		{[]string{"--sign-in", "phone", "--admit-type", "employee"}, "admits clinicians only"},
	} {
		args := append([]string{"client", "add", "--id", "other", "--public", "--redirect-uri", "com.cliniconnects.mobile:/cb"}, tc.args...)
		code, _, errs := c.run("", args...)
		if line := lastLine(errs); code == 0 || !strings.HasPrefix(line, "idp: ") || !strings.Contains(line, tc.want) {
			t.Fatalf("%v: exit %d, last line %q; want %q", tc.args, code, line, tc.want)
		}
	}
}

func regexpLine(out, pattern string) bool {
	for _, l := range strings.Split(out, "\n") {
		if regexp.MustCompile(pattern).MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}
