/**
 * Outgoing email through an HTTP email API with Resend's wire shape
 * (`POST {from, to, subject, text}` with a bearer key). Production points
 * EMAIL_API_URL at the provider; the local stack at its mailbox.
 */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export async function sendMail(env: Env, mail: Mail): Promise<void> {
  const res = await fetch(env.EMAIL_API_URL, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.EMAIL_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: env.EMAIL_FROM, to: [mail.to], subject: mail.subject, text: mail.text }),
  });
  if (!res.ok) throw new Error(`email API answered ${res.status}: ${await res.text()}`);
}
