package login

// User-facing texts of the account pages. Fixed, like those in
// messages.go: only what the user typed (an email) or their own profile is
// ever shown besides them.
const (
	msgBadFormAccount = "The form could not be read. Please try again."
	msgTryLater       = "Too many requests. Please wait a while and try again."

	// Forgot password.
	titleForgot       = "Reset your password"
	titleForgotError  = "Error: Reset your password"
	msgForgotLead     = "Enter the email address you sign in with. We will email you a link to choose a new password."
	titleForgotSent   = "Check your email"
	msgForgotSent     = "If an account with the address %s can reset its password, we have sent it a link to choose a new password."
	msgForgotSent2    = "The link works once and expires in %s. If nothing arrives within a few minutes, check your spam folder or request a new link; only the newest link works."
	msgEmailInvalidF  = "Enter an email address such as name@example.com."
	msgEmailMissingF  = "Enter your email address."
	hintNewPassword   = "At least %d characters. A phrase of several unrelated words is strong and easy to remember."
	msgPasswordsDiff  = "The passwords do not match. Type the same password twice."
	msgConfirmMissing = "Type the new password again."
	msgNewMissing     = "Enter a new password."
	msgCurrentMissing = "Enter your current password."
	msgCurrentWrong   = "The current password is incorrect."

	// Reset.
	titleReset        = "Choose a new password"
	titleResetError   = "Error: Choose a new password"
	titleResetDone    = "Your password has been changed"
	msgResetDone      = "You can now sign in with your new password. For your security, you have been signed out everywhere."
	msgResetInvalid   = "This password reset link is not valid. It may have been copied incompletely. Request a new link below."
	msgResetExpired   = "This password reset link has expired. Request a new link below."
	msgResetReplaced  = "This link no longer works: a newer password reset link was requested after it, or your account changed since (its password, email or sign-ins were reset). Use the link in the most recent email, or request a new one."
	msgResetUsed      = "This password reset link has already been used. If you did not change your password, request a new link."
	titleInvite       = "Set up your account"
	titleInviteError  = "Error: Set up your account"
	titleInviteDone   = "Your account is ready"
	msgInviteDone     = "Your email address is confirmed and your password is set. Sign in to continue."
	msgInviteInvalid  = "This invitation link is not valid. It may have been copied incompletely. Open the link from the invitation email again, or ask your administrator to send a new invitation."
	msgInviteExpired  = "This invitation link has expired. We can send a new invitation to the address it was sent to."
	msgInviteReplaced = "This link no longer works: a newer invitation was sent after it, or your account changed since (for example its email address). Use the link in the most recent invitation email, or ask your administrator to send a new one."
	msgInviteUsed     = "This invitation has already been accepted. Sign in with your email address and password; if you forgot the password, reset it from the sign-in page."
	titleInviteResent = "A new invitation is on its way"
	msgInviteResent   = "We have sent a new invitation to the address the first one went to. Open the link in that email to set up your account."
	msgEmailInvalid   = "This confirmation link is not valid. It may have been copied incompletely. You can ask for the change again from your account page."
	msgEmailExpired   = "This confirmation link has expired, and your sign-in email has not changed. You can ask for the change again from your account page."
	msgEmailReplaced  = "This link no longer works: a newer email change was requested after it, or your account changed since (its password, email or sign-ins were reset), and your sign-in email has not changed. You can ask for the change again from your account page."
	msgEmailUsed      = "This email change has already been confirmed."
	titleEmailConfirm = "Confirm your new email address"
	titleEmailDone    = "Your sign-in email has changed"
	msgEmailDone      = "From now on, sign in with %s."
	titleEmailTaken   = "This address is already in use"
	msgEmailTakenLink = "Another account uses this email address now, so your sign-in email has not changed. You can choose another address from your account page."

	// Account page.
	titleAccount          = "Your account"
	titleAccountError     = "Error: Your account"
	noticePasswordChanged = "Your password has been changed. You have been signed out everywhere else."
	noticeEmailSent       = "We have sent a confirmation link to the new address. Your sign-in email changes once you open it."
	msgConflict           = "Your account changed while you were making this change. Please try again."
)

// notices are the messages /account shows after a change, by the notice
// query parameter; anything else shows nothing.
var notices = map[string]string{
	"password-changed": noticePasswordChanged,
	"email-sent":       noticeEmailSent,
	"name-changed":     noticeNameChanged,
}

const (
	msgEmailMissingNew = "Enter the new email address."
	msgEmailSame       = "This is already your sign-in email."
)
