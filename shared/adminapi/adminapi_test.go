package adminapi

import "testing"

func TestErrorString(t *testing.T) {
	cases := []struct {
		err  Error
		want string
	}{
		{Error{Code: "not_found"}, "not_found"},
		{Error{Code: "forbidden", Message: "missing permission"}, "forbidden: missing permission"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}
