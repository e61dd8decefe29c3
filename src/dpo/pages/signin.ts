import { html } from '../html.js';
import { page, type PageContext } from '../layout.js';
import { sendRefusal } from '../messages.js';
import { bodyOf, field, guestContext, identityOf, langField, queryParam, sendPage, type DpoPages } from '../request.js';
import { clearCookie, issueSigninToken, readCookie, sameOrigin, sameToken, SIGNIN_COOKIE } from '../session.js';

/**
 * Signing in (GET and POST /dpo/sign-in): the certificate the browser presented, and a form that
 * turns it into a session (session.ts). The shell mounts these before its session check.
 */
export const signInRoutes: DpoPages = (router, deps) => {
  router.get('/sign-in', async (req, res) => {
    const identity = identityOf(res);
    const current = await deps.sessions.check(req, identity);
    if (current.ok) return res.redirect(303, '/dpo/');
    const lang = queryParam(req, 'lang') === 'en' ? 'en' : 'da';
    const token = issueSigninToken(res);
    sendPage(
      res,
      200,
      signInPage(guestContext(deps, req, lang), {
        clientId: identity.client.id,
        clientTitle: identity.client.title[lang],
        token,
        expired: queryParam(req, 'expired') === '1',
        signedOut: queryParam(req, 'signed-out') === '1',
      }),
    );
  });

  router.post('/sign-in', async (req, res) => {
    const identity = identityOf(res);
    const body = bodyOf(req);
    if (!sameOrigin(req) || !sameToken(field(body, '_signin'), readCookie(req, SIGNIN_COOKIE)))
      return sendRefusal(res, guestContext(deps, req, 'da'), 'signInFormExpired', 'form-expired');
    clearCookie(res, SIGNIN_COOKIE);
    await deps.sessions.open(res, identity, langField(body, 'lang'));
    deps.logger.info('dpo signed in', { requestId: res.locals.requestId as string, client: identity.client.id });
    res.redirect(303, '/dpo/');
  });
};

export function signInPage(
  ctx: PageContext,
  o: { clientId: string; clientTitle: string; token: string; expired: boolean; signedOut: boolean },
): string {
  const { t } = ctx;
  return page(ctx, {
    title: t.signIn.title,
    section: 'none',
    body: html`<section class="panel signin">
  <h1>${t.signIn.heading}</h1>
  ${o.expired ? html`<p class="notice" id="session-expired">${t.signIn.expired}</p>` : ''}
  ${o.signedOut ? html`<p class="notice ok" id="signed-out">${t.signIn.signedOut}</p>` : ''}
  <p>${t.signIn.presented}</p>
  <dl class="facts"><dt>${t.signIn.system}</dt><dd id="certificate-client">${o.clientTitle} (${o.clientId})</dd><dt>${t.signIn.role}</dt><dd>dpo</dd></dl>
  <p class="small muted">${t.signIn.sessionRules}</p>
  <form method="post" action="/dpo/sign-in">
    <input type="hidden" name="_signin" value="${o.token}">
    <input type="hidden" name="lang" value="${ctx.lang}">
    <button type="submit" id="sign-in">${t.signIn.title}</button>
  </form>
</section>`,
  });
}
