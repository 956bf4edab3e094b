package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func TestMFARequiredRoles(t *testing.T) {
	for _, tc := range []struct {
		val  string
		want []storage.Role
	}{
		{"", []storage.Role{storage.RoleSuperAdmin, storage.RoleAdmin}}, // the default
		{"super_admin", []storage.Role{storage.RoleSuperAdmin}},
		{" admin , assigning_manager,admin ", []storage.Role{storage.RoleAdmin, storage.RoleAssigningManager}},
		{"none", nil},
	} {
		c, err := Load(env(map[string]string{"IDP_MFA_REQUIRED_ROLES": tc.val}), nil)
		if err != nil {
			t.Fatalf("IDP_MFA_REQUIRED_ROLES=%q: %v", tc.val, err)
		}
		if !slices.Equal(c.MFARequiredRoles, tc.want) {
			t.Errorf("IDP_MFA_REQUIRED_ROLES=%q: %v, want %v", tc.val, c.MFARequiredRoles, tc.want)
		}
	}
	_, err := Load(env(map[string]string{"IDP_MFA_REQUIRED_ROLES": "admin,root"}), nil)
	if err == nil || !strings.Contains(err.Error(), "IDP_MFA_REQUIRED_ROLES") || !strings.Contains(err.Error(), `"root"`) {
		t.Fatalf("unknown role: %v, want an error naming the setting and the role", err)
	}
}
