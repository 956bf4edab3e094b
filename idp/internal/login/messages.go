package login

// User-facing texts. They are fixed: nothing from an error, the store or the
// request is ever put into a page except the email the user typed.
const (
	titleSignIn = "Sign in"
	// titleSignInError tells screen reader users at once that the form
	// came back with an error.
	titleSignInError = "Error: Sign in"
	titleExpired     = "Sign-in link expired"
	titleProblem     = "Something went wrong"
	titleForbidden   = "Request blocked"
	titleBad         = "Bad request"
	// titleOtherBrowser: a sign-in link opened in a browser that did not
	// start it (the page explains; see other_browser.html).
	titleOtherBrowser = "Sign-in started somewhere else"
	titleContinue     = "Continue"

	msgExpired   = "This sign-in link has expired. Go back to the application and start again."
	msgInternal  = "We could not complete your request. Please try again in a few minutes."
	msgForbidden = "This form was sent from another site, so it was not accepted. Go back to the application and start again."
	msgBadForm   = "The form could not be read. Go back to the application and start again."

	msgInvalid       = "The email or password is incorrect."
	msgEmailMissing  = "Enter your email address."
	msgPasswordEmpty = "Enter your password."
	// msgLocked takes the number of minutes.
	msgLocked  = "Too many attempts. Try again in %d minutes."
	msgLocked1 = "Too many attempts. Try again in 1 minute."
)
