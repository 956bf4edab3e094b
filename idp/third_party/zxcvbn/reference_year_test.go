package zxcvbn

import "github.com/trustelem/zxcvbn/scoring"

// testdata/output.json was produced by zxcvbn.js in 2019, and date and
// year guesses grow with the distance to the current year. Pin the year so
// the expected values stay right (fork change, see FORK.md).
func init() { scoring.ReferenceYear = 2019 }
