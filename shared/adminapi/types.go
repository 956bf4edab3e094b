package adminapi

import (
	"log/slog"
	"time"
)

// User is an employee or clinician record as the admin API shows it. The
// password, PIN and every other secret never appear.
type User struct {
	ID            string     `json:"id"`
	Type          UserType   `json:"type"`
	GivenName     string     `json:"given_name"`
	FamilyName    string     `json:"family_name"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Phone         string     `json:"phone,omitempty"` // E.164
	Status        UserStatus `json:"status"`
	Roles         []Role     `json:"roles"` // highest first; [] for none
	JobTitle      string     `json:"job_title,omitempty"`
	Department    string     `json:"department,omitempty"`
	Discipline    string     `json:"discipline,omitempty"` // clinicians only
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// Version increases with every change. Send it back (If-Match:
	// "<version>", or the version field of an update) so that a change
	// made meanwhile by someone else is not overwritten.
	Version int64 `json:"version"`
	// MFA is the state of the user's second sign-in factor.
	MFA MFAState `json:"mfa"`
	// RecoveryCodesLeft is how many unused recovery codes the user has
	// (0 unless MFA is enabled).
	RecoveryCodesLeft int `json:"recovery_codes_left"`
}

// Name is the display name.
func (u User) Name() string {
	switch {
	case u.GivenName == "":
		return u.FamilyName
	case u.FamilyName == "":
		return u.GivenName
	}
	return u.GivenName + " " + u.FamilyName
}

// NewEmployee creates an employee (POST /employees). The employee starts
// invited: an invitation email goes out in the same transaction.
type NewEmployee struct {
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email"`
	Phone      string `json:"phone,omitempty"` // optional, E.164 (+ and country code)
	JobTitle   string `json:"job_title,omitempty"`
	Department string `json:"department,omitempty"`
	Roles      []Role `json:"roles,omitempty"`
}

// NewClinician creates a clinician (POST /clinicians). Phone (E.164) and
// discipline are required: the phone number is the mobile sign-in id.
type NewClinician struct {
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Discipline string `json:"discipline"`
	JobTitle   string `json:"job_title,omitempty"`
	Department string `json:"department,omitempty"`
	Roles      []Role `json:"roles,omitempty"`
}

// EmployeeUpdate changes profile fields (PATCH /employees/{id}); absent
// members stay as they are, "" clears an optional one.
type EmployeeUpdate struct {
	// Version, when If-Match is not sent, is the version the change was
	// made against.
	Version    int64   `json:"version,omitempty"`
	GivenName  *string `json:"given_name,omitempty"`
	FamilyName *string `json:"family_name,omitempty"`
	Email      *string `json:"email,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	JobTitle   *string `json:"job_title,omitempty"`
	Department *string `json:"department,omitempty"`
}

// ClinicianUpdate changes profile fields (PATCH /clinicians/{id}). The
// phone cannot be cleared.
type ClinicianUpdate struct {
	Version    int64   `json:"version,omitempty"`
	GivenName  *string `json:"given_name,omitempty"`
	FamilyName *string `json:"family_name,omitempty"`
	Email      *string `json:"email,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	Discipline *string `json:"discipline,omitempty"`
	JobTitle   *string `json:"job_title,omitempty"`
	Department *string `json:"department,omitempty"`
}

// RolesUpdate replaces a user's roles (PUT /…/{id}/roles).
type RolesUpdate struct {
	Version int64  `json:"version,omitempty"`
	Roles   []Role `json:"roles"`
}

// UserList is one page of users.
type UserList struct {
	Items []User `json:"items"`
	// NextCursor fetches the next page; "" on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListUsersOptions selects users. Zero fields do not filter. Users come in
// a stable order (by id); pages never repeat or skip a user.
type ListUsersOptions struct {
	// Search matches a case-insensitive part of the name, email or phone.
	Search string     // query parameter q
	Status UserStatus // status
	Role   Role       // role
	Cursor string     // cursor: NextCursor of the previous page
	Limit  int        // limit: 1–500, default 50
}

// Me is the caller: their record and what they may do.
type Me struct {
	User User `json:"user"`
	// Permissions are the caller's effective permissions, sorted.
	Permissions []Permission `json:"permissions"`
	// AssignableRoles are the roles the caller may grant and revoke.
	AssignableRoles []Role `json:"assignable_roles"`
}

// OIDCClient is an OIDC client (a CliniConnects module). Its secret is
// shown only once, when created or rotated.
type OIDCClient struct {
	ID                     string     `json:"id"`
	Name                   string     `json:"name"`
	Public                 bool       `json:"public"`
	RedirectURIs           []string   `json:"redirect_uris"`
	PostLogoutRedirectURIs []string   `json:"post_logout_redirect_uris"`
	GrantTypes             []string   `json:"grant_types"`
	AdmitRoles             []Role     `json:"admit_roles"`
	AdmitTypes             []UserType `json:"admit_types"`
	Scopes                 []string   `json:"scopes"`
	// SignInMethod is how users sign in to the client.
	SignInMethod SignInMethod `json:"sign_in_method"`
	// RequireMFA: everyone signs in to it with two factors (an
	// authenticator app, set up during the sign-in when missing).
	RequireMFA bool      `json:"require_mfa"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Version guards updates as for users (If-Match or version field).
	Version int64 `json:"version"`
}

// NewOIDCClient registers a client (POST /clients). A confidential client gets
// a generated secret, returned once.
type NewOIDCClient struct {
	ID                     string     `json:"id"`
	Name                   string     `json:"name,omitempty"`
	Public                 bool       `json:"public,omitempty"`
	RedirectURIs           []string   `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string   `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string   `json:"grant_types,omitempty"` // default authorization_code, refresh_token
	AdmitRoles             []Role     `json:"admit_roles,omitempty"`
	AdmitTypes             []UserType `json:"admit_types,omitempty"`
	Scopes                 []string   `json:"scopes,omitempty"` // e.g. ["admin"]
	// SignInMethod defaults to email. A phone client admits clinicians
	// only (admit_roles must be empty, admit_types empty or
	// ["clinician"]) and needs the authorization_code grant.
	SignInMethod SignInMethod `json:"sign_in_method,omitempty"`
	// RequireMFA: everyone signs in with two factors (not for phone
	// clients, whose PIN is the mobile credential).
	RequireMFA bool `json:"require_mfa,omitempty"`
}

// OIDCClientUpdate changes a client (PATCH /clients/{id}); absent members stay.
// Whether a client is public cannot change.
type OIDCClientUpdate struct {
	Version                int64       `json:"version,omitempty"`
	Name                   *string     `json:"name,omitempty"`
	RedirectURIs           *[]string   `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs *[]string   `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             *[]string   `json:"grant_types,omitempty"`
	AdmitRoles             *[]Role     `json:"admit_roles,omitempty"`
	AdmitTypes             *[]UserType `json:"admit_types,omitempty"`
	Scopes                 *[]string   `json:"scopes,omitempty"`
	// SignInMethod changes how users sign in; the result is validated as
	// a new client would be.
	SignInMethod *SignInMethod `json:"sign_in_method,omitempty"`
	// RequireMFA turns the two-factor requirement on or off.
	RequireMFA *bool `json:"require_mfa,omitempty"`
}

// SignInMethod is how users sign in to a client.
type SignInMethod string

const (
	// SignInEmail: email address and password (the default).
	SignInEmail SignInMethod = "email"
	// SignInPhone: clinicians only, with mobile number and PIN (the
	// clinician mobile app); a clinician's phone change ends these
	// sign-ins.
	SignInPhone SignInMethod = "phone"
)

// SignInMethods lists every sign-in method.
var SignInMethods = []SignInMethod{SignInEmail, SignInPhone}

// OIDCClientWithSecret answers creating or rotating a client's secret. Secret
// is "" for public clients; it is never shown again.
type OIDCClientWithSecret struct {
	Client OIDCClient `json:"client"`
	Secret string     `json:"secret,omitempty"`
}

// LogValue keeps the secret out of every log line.
func (c OIDCClientWithSecret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client", c.Client.ID), slog.Bool("secret_set", c.Secret != ""))
}

// OIDCClientList is every client.
type OIDCClientList struct {
	Items []OIDCClient `json:"items"`
}

// Change is one changed field of an audit entry. Secrets never appear;
// a changed password hash or secret shows as "(changed)".
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// AuditEntry records one change: who did what to which record, from where.
type AuditEntry struct {
	ID         int64             `json:"id"`
	At         time.Time         `json:"at"`
	ActorID    string            `json:"actor_id"` // "" for the system or the CLI
	Action     string            `json:"action"`   // e.g. employee.create
	TargetType string            `json:"target_type"`
	TargetID   string            `json:"target_id"`
	SourceAddr string            `json:"source_addr"`
	Changes    map[string]Change `json:"changes,omitempty"`
}

// AuditList is one page of the audit log, newest first.
type AuditList struct {
	Items      []AuditEntry `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// AuditOptions selects audit entries. Zero fields do not filter.
type AuditOptions struct {
	Actor  string    // actor: user id
	Target string    // target: record id
	Action string    // action, e.g. employee.disable
	From   time.Time // from (RFC 3339): entries at or after
	To     time.Time // to (RFC 3339): entries before
	Cursor string    // cursor: NextCursor of the previous page
	Limit  int       // limit: 1–500, default 50
}
