// Integration tests talk to real servers: give each test a minute (Jest's `testTimeout` is a
// global option, so the integration project sets it here instead).
jest.setTimeout(60_000);
