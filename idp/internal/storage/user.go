package storage

import (
	"log/slog"
	"slices"
	"time"
)

// UserType is the kind of end user a record is. Every user has exactly one.
type UserType string

const (
	UserTypeEmployee  UserType = "employee"
	UserTypeClinician UserType = "clinician"
)

// Valid reports whether t is a known user type.
func (t UserType) Valid() bool { return t == UserTypeEmployee || t == UserTypeClinician }

// Role is an administrative role. End users hold none.
type Role string

const (
	RoleSuperAdmin       Role = "super_admin"
	RoleAdmin            Role = "admin"
	RoleAssigningManager Role = "assigning_manager"
)

// Roles lists every role, highest first.
var Roles = []Role{RoleSuperAdmin, RoleAdmin, RoleAssigningManager}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// UserStatus is where a user is in their lifecycle.
type UserStatus string

const (
	// StatusInvited: created, has not yet verified the email and set a first
	// password; cannot sign in.
	StatusInvited UserStatus = "invited"
	// StatusActive: may sign in.
	StatusActive UserStatus = "active"
	// StatusDisabled: may not sign in; sessions and tokens were revoked.
	StatusDisabled UserStatus = "disabled"
)

// Valid reports whether s is a known status.
func (s UserStatus) Valid() bool {
	return s == StatusInvited || s == StatusActive || s == StatusDisabled
}

// User is a person who signs in: an employee or a clinician, possibly holding
// administrative roles.
type User struct {
	ID            string // stable opaque id; the OIDC subject
	Type          UserType
	GivenName     string
	FamilyName    string
	Email         string // as entered; unique case-insensitively
	EmailVerified bool
	Phone         string // E.164, "" when unset; unique when set
	Status        UserStatus
	Roles         []Role // sorted, no duplicates
	PasswordHash  string // argon2id PHC string; "" when no password is set
	JobTitle      string
	Department    string
	Discipline    string // clinicians: RN, LPN, PT, OT, SLP, HHA, MSW, …
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64 // incremented by every update; guards lost updates
}

// HasRole reports whether u holds r.
func (u User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

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

// LogValue keeps the password hash out of every log line.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("type", string(u.Type)), slog.String("status", string(u.Status)))
}

// UserQuery selects users for ListUsers. Zero fields do not filter.
type UserQuery struct {
	Type   UserType
	Status UserStatus
	Role   Role
	// WithoutRoles leaves out users who hold any of these roles (those an
	// admin may not view), in the query, so that neither a page nor its
	// cursor depends on them.
	WithoutRoles []Role
	// Search matches a case-insensitive substring of the given name, family
	// name, full name, email or phone.
	Search string
	// After is the cursor: the ID of the last user of the previous page.
	// Users are ordered by ID, which is stable.
	After string
	Limit int // 0 means 50; at most 500
}
