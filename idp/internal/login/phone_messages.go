package login

// User-facing texts of the phone sign-in pages and of the account's name,
// phone and sign-ins pages. Fixed, like those in messages.go: only what
// the user typed (a number) or their own profile is shown besides them.
const (
	titleActivate      = "Activate this phone"
	titleActivateError = "Error: Activate this phone"
	titleCode          = "Enter the code"
	titleCodeError     = "Error: Enter the code"
	titlePIN           = "Choose your PIN"
	titlePINError      = "Error: Choose your PIN"

	labelPhone     = "Mobile number"
	hintPhone      = "In international form, for example +14155550123."
	labelPIN       = "PIN"
	labelNewPIN    = "New PIN"
	hintNewPIN     = "6 to 12 digits. Not one digit repeated, not a run such as 123456, not your phone number."
	labelConfirmPN = "Type the PIN again"
	labelCode      = "Code from the text message"

	msgPhoneMissing   = "Enter your mobile number."
	msgPhoneBad       = "Enter a mobile number in international form, such as +14155550123."
	msgPINEmpty       = "Enter your PIN."
	msgPhoneInvalid   = "The mobile number or PIN is incorrect. After too many wrong PINs the PIN stops working: then activate this phone again."
	msgCodeMissing    = "Enter the 6-digit code from the text message."
	msgCodeWrong      = "The code is wrong or no longer valid. Check the newest text message, or send a new code."
	msgPINMissing     = "Choose a PIN."
	msgPINConfirm     = "Type the PIN again."
	msgPINsDiffer     = "The PINs do not match. Type the same PIN twice."
	msgTicketGone     = "This activation has expired or was already used. Enter your number again to get a new code."
	msgSMSUnavailable = "Text messages cannot be sent at the moment, so this phone cannot be activated. Please try again later or ask your administrator."
	msgPhoneOnly      = "This application signs in with your mobile number and PIN."
	msgNotPhoneClient = "This application does not sign in with a mobile number. Go back to the application and start again."
	msgPhoneNoService = "Sign-in with a mobile number is not available. Please try again later."

	// Account: name, phone and sign-ins.
	titleName           = "Your name"
	titleNameError      = "Error: Your name"
	titlePhonePage      = "Mobile number and app"
	titlePhonePageError = "Error: Mobile number and app"
	titleSignIns        = "Where you are signed in"
	titleSignInsError   = "Error: Where you are signed in"

	labelGiven        = "Given name"
	labelFamily       = "Family name"
	labelNewPhone     = "New mobile number"
	msgGivenMissing   = "Enter your given name."
	msgFamilyMissing  = "Enter your family name."
	msgNameBad        = "Use at most 100 characters, without control characters."
	msgSamePhone      = "This is already your mobile number."
	msgPhoneTaken     = "This number cannot be used for your account. If it is yours, ask your administrator."
	msgSignInGone     = "That sign-in has already ended."
	noticeNameChanged = "Your name has been changed."
	noticePhoneDone   = "Your mobile number has been changed. Activate the app on the new number to sign in there."
	noticeSignInEnded = "That sign-in has ended."
)
