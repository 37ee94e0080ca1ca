// A real OpenID Connect provider for the social sign-in tests: panva's certified `oidc-provider` with its
// development interactions (a login form that takes any login, then a consent page).
//
//   node tests/js/oidc/provider.mjs <port> <clients JSON>
//
// <clients JSON>: [{client_id, client_secret, redirect_uris}]. The login names the account: its `sub` and
// email are the login; an email whose local part starts with "unverified" has email_verified false.
// Prints "OIDC provider ready on <issuer>" once listening.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const clients = JSON.parse(process.argv[3]).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  ...client,
}));
const issuer = `http://localhost:${port}`;

const provider = new Provider(issuer, {
  clients,
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // the email claims go into the ID token, as Google, Okta and Keycloak do
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      email: id.includes('@') ? id : undefined,
      email_verified: !id.startsWith('unverified'),
      name: `Test ${id.split('@')[0]}`,
    }),
  }),
});
provider.proxy = false;
provider.listen(port, 'localhost', () => {
  console.log(`OIDC provider ready on ${issuer}`);
});
