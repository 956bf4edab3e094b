// Package password owns how CliniConnects Identity stores and judges
// user secrets:
//
//   - argon2id hashing and verification of passwords (and PINs), encoded
//     in the PHC string format
//     ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>), with rehash detection
//     when the configured parameters change and a DummyVerify that makes a
//     login for an unknown account cost as much as a wrong password;
//   - the one process-wide bound on that work (bound.go): every argon2id
//     computation of Hash, Verify, DummyVerify and VerifySecret runs in
//     one of at most runtime.NumCPU() slots, behind a short queue with a
//     short wait, else ErrBusy, so memory for hashing is bounded by
//     Concurrency × Params.Memory whatever the traffic; each slot keeps
//     its argon2 memory from one hash to the next, so hashes allocate
//     none (third_party/argon2, a fork of x/crypto's);
//   - secrets the provider generates itself (GenerateSecret: 256 random
//     bits, stored by HashGenerated as a SHA-256 digest, checked by
//     VerifySecret in constant time without a slot);
//   - the password policy, following NIST SP 800-63B rev. 4: a length
//     floor and ceiling counted in Unicode code points, no composition
//     rules, rejection of passwords that contain the user's email address,
//     name or the product name, and a zxcvbn guessability check.
//
// Nothing in this package logs, and no error or violation message ever
// contains a secret, a hash, or the user's personal data.
package password
