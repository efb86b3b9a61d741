/** Settings shared by the Playwright config and the specs. */
export const E2E_INSTRUCTOR_TOKEN = 'e2e-instructor-token';
