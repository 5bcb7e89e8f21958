// A real OpenID provider for pave's sign-in tests (crates/server/tests/oidc.rs):
// node-oidc-provider with its development login and consent pages, one client for pave
// (PKCE required; a public client unless CLIENT_SECRET is set, then client_secret_post) and
// accounts named by their login.
//
//   node provider.mjs <port> <pave callback URL> <post-logout URL>
//
// Prints "listening <issuer>" once it accepts connections.
import Provider from 'oidc-provider';

const [port, redirectUri, postLogout] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

// The login typed on the provider's page is the account; its email is <login>@example.com,
// so a catalog User with that spec.profile.email matches (resolver: email).
const findAccount = async (_ctx, id) => ({
  accountId: id,
  claims: async () => ({
    sub: id,
    email: `${id}@example.com`,
    email_verified: true,
    name: `${id.charAt(0).toUpperCase()}${id.slice(1)} Example`,
  }),
});

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'pave',
    ...(process.env.CLIENT_SECRET ? { client_secret: process.env.CLIENT_SECRET } : {}),
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogout],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: process.env.CLIENT_SECRET ? 'client_secret_post' : 'none',
    id_token_signed_response_alg: process.env.ID_TOKEN_ALG || 'RS256',
  }],
  pkce: { required: () => true },
  findAccount,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Put the scopes' claims in the ID token too (pave reads them there, not from userinfo).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['pave-oidc-test'] },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
