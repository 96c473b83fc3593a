// A real OpenID provider for the single sign-on tests: the npm package oidc-provider.
//
//   node tests/sso/provider.mjs <port> <redirect_uri> [<redirect_uri> ...]
//
// Prints "READY <issuer>" once listening. One confidential client is registered:
// client_id "peerbridge", secret "peerbridge-test-secret", PKCE required.
//
// Accounts are made up from the login typed on the provider's own (devInteractions) login
// page, whatever the password:
//   "alice@nhs.net"             email alice@nhs.net, email_verified true (the login is the subject)
//   "unverified:dan@nhs.net"    the same but email_verified false
//   "noemail:eve"               no email claim at all
// The name claim is the part before "@", capitalised.
//
// For the failure cases the token endpoint's answer can be altered once, as an attacker or a
// broken provider would: GET /__test/tamper?mode=M makes the next ID token
//   wrong_aud      carry aud "another-application" (re-signed with the provider's own key)
//   wrong_iss      carry iss "https://impostor.example" (re-signed with the provider's key)
//   expired        carry exp an hour ago and iat two hours ago (re-signed with the provider's key)
//   nonce          carry a nonce other than the one asked for (re-signed with the provider's key)
//   bad_signature  keep every claim but be signed by another key under the same key id
//   mfa            carry amr ["pwd", "mfa"], as a provider that checked a second factor does
// Each mode applies to one token answer, then the provider is honest again.

import { generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const [portArg, ...redirectUris] = process.argv.slice(2);
const port = Number(portArg);
const issuer = `http://127.0.0.1:${port}`;

const KID = 'peerbridge-test-key';
const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const rogue = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };

function accountFor(login) {
  let verified = true;
  let email = login;
  if (login.startsWith('unverified:')) {
    verified = false;
    email = login.slice('unverified:'.length);
  }
  if (login.startsWith('noemail:')) {
    email = null;
  }
  const local = (email || login).split('@')[0].replace(/^noemail:/, '');
  const claims = { sub: login, name: local.charAt(0).toUpperCase() + local.slice(1) };
  if (email) {
    claims.email = email;
    claims.email_verified = verified;
  }
  return claims;
}

const configuration = {
  clients: [
    {
      client_id: 'peerbridge',
      client_secret: 'peerbridge-test-secret',
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // put the scope's claims in the ID token, as Entra ID does
  pkce: { required: () => true },
  cookies: { keys: ['peerbridge-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return accountFor(id); } };
  },
  // A first-party client: no consent screen, every scope asked for is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
let tamper = null;

async function tampered(idToken, mode) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  if (mode === 'wrong_aud') claims.aud = 'another-application';
  else if (mode === 'wrong_iss') claims.iss = 'https://impostor.example';
  else if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (mode === 'nonce') claims.nonce = 'not-the-nonce-that-was-sent';
  else if (mode === 'bad_signature') key = rogue.privateKey;
  else if (mode === 'mfa') claims.amr = ['pwd', 'mfa'];
  else throw new Error(`unknown tamper mode ${mode}`);
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper') {
    tamper = ctx.query.mode || null;
    ctx.body = { tamper };
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper && ctx.status === 200 && ctx.body?.id_token) {
    const mode = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token, mode) };
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
