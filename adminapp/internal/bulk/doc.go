// Package bulk is the admin app's CSV work, free of any UI: reading an
// import file of employees or clinicians into the API's create requests,
// checking every row through the server's dry run of its create before
// anything is created (DryRun), creating
// the rows with progress and cancellation, writing what failed back out
// as CSV, and exporting users and audit entries.
//
// # Import file
//
// The first line names the columns, in any order and any case ("Given
// name" and given_name are the same column). Columns:
//
//	given_name   required
//	family_name  required
//	email        required; the login address, where the invitation goes
//	phone        international form (+14155550123); required for clinicians
//	discipline   clinicians only, required: one of adminapi.Disciplines
//	job_title    optional
//	department   optional
//	roles        optional: super_admin, admin, assigning_manager, separated by ; or spaces
//
// Blank lines are skipped; a UTF-8 byte order mark is ignored. Rows are
// numbered as in a spreadsheet: the header is row 1.
package bulk
