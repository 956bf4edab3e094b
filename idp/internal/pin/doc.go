// Package pin owns the policy for clinicians' mobile PINs: 6–12 ASCII
// digits; not one digit repeated or any shorter block repeated (111111,
// 121212, 123123); not a run up or down the digits (123456, 987654,
// 890123); not one of the most common PINs; not part of the clinician's own
// phone number. PINs are hashed and verified with password.Hasher
// (argon2id, under the same process-wide bound as passwords); this package
// only judges them. Nothing here logs, and no message contains the PIN.
package pin
