package scoring_test

import "github.com/trustelem/zxcvbn/scoring"

// The expected values were written in 2019: "2005" is within MinYearSpace
// of the reference year only until 2025. Pin the year so the tests do not
// depend on the date (fork change, see FORK.md).
func init() { scoring.ReferenceYear = 2019 }
