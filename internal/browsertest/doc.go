// Package browsertest drives a real browser (Debian's chromium, through the
// DevTools protocol with chromedp) through the end-user flow of a whole dev
// instance: a demo service's "log in", the school-selection page, the test
// source's page, and back to the service; single sign-on to a second
// service; logout; by mouse and by keyboard only, in Finnish and Swedish.
// It injects axe-core into each page and fails on any accessibility
// violation, and it can save the screenshots of the selection page shown
// in the README.
//
// Why a browser and not an HTTP client: keyboard operation, visible focus,
// the search that filters as one types, contrast and the page's weight and
// outside requests only exist in a browser. The tests run when
// MPASSID_TEST_CHROMIUM names a chromium binary (.ci/install-chromium.sh)
// and axe-core is installed (.ci/install-axe-core.sh); they skip
// otherwise, or fail under MPASSID_REQUIRE_ALL=1.
package browsertest
