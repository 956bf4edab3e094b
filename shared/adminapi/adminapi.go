package adminapi

// Version is the version of the admin API contract described by this
// package. It is a placeholder until the admin API is specified.
const Version = "v0"

// ErrorCode identifies a machine-readable admin API error.
type ErrorCode string

// Error is the body the admin API returns when a request fails.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}
