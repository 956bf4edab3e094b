// Package signin owns one use case: authenticate a person by email and
// password. The sign-in pages call it today; the mobile and admin sign-ins
// will call it too, so every rule about password sign-in lives here:
//
//   - one answer, ErrInvalidCredentials, for an unknown email, a wrong
//     password, an account without a password, and an invited or disabled
//     account, and about the same time spent on each (a real argon2id
//     verification or password.Hasher.DummyVerify);
//   - per-account and per-source throttling kept in the store, so every
//     replica sees the same counters: a growing delay from the third
//     consecutive failure, a temporary lock after LockAfter failures
//     (*LockedError), and a per-source limit against password spraying.
//     Unknown emails are counted exactly like known ones, so a lock says
//     nothing about whether an account exists;
//   - device cookies (device.go, after OWASP): a browser in which the user
//     signed in before has its own counter and is not shut out by the
//     account or source lock that others' failures set;
//   - the audit log of outcomes (audit.go): success, failure, lock and
//     unlock, with the source address and never a password or an
//     attempted address;
//   - rehashing a password whose hash was made with older parameters; the
//     new hash is stored through HashWriter (account, the one writer of
//     user records).
//
// Nothing here logs a password, and emails are logged only as a short hash.
package signin
