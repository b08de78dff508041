// Delivers login codes and invitations: logged to the console in development, sent through Resend's HTTP API otherwise.
import type { Config } from "../config.ts";
import type { UserRole } from "../db/schema.ts";

export interface LoginCodeMail {
  to: string;
  code: string;
  tenantName: string;
  expiresInSeconds: number;
}

export interface InviteMail {
  to: string;
  tenantId: string;
  tenantName: string;
  role: UserRole;
  /** The admin who invited them, as they would recognise them. */
  invitedBy: string;
}

export interface Mailer {
  sendLoginCode(mail: LoginCodeMail): Promise<void>;
  sendInvite(mail: InviteMail): Promise<void>;
}

export class MailDeliveryError extends Error {}

interface Message {
  to: string;
  subject: string;
  text: string;
}

const loginCodeMessage = (mail: LoginCodeMail): Message => ({
  to: mail.to,
  subject: `${mail.code} is your ${mail.tenantName} sign-in code`,
  text: `Your sign-in code is ${mail.code}. It expires in ${Math.round(mail.expiresInSeconds / 60)} minutes.\nIf you did not ask for it, ignore this email.`,
});

const inviteMessage = (mail: InviteMail): Message => ({
  to: mail.to,
  subject: `You are invited to ${mail.tenantName} on DocuChat`,
  text:
    `${mail.invitedBy} invited you to ${mail.tenantName} (organisation id "${mail.tenantId}") on DocuChat as ${mail.role === "member" ? "a member" : `an ${mail.role}`}.\n` +
    `Sign in with this email address: ask for a sign-in code and it will be sent here.\nIf you did not expect this, ignore this email.`,
});

type Send = (message: Message) => Promise<void>;

/** Every kind of mail goes through one `send`, so a provider is one function. */
const mailerSending = (send: Send): Mailer => ({
  sendLoginCode: (mail) => send(loginCodeMessage(mail)),
  sendInvite: (mail) => send(inviteMessage(mail)),
});

const consoleMailer = mailerSending(async ({ to, subject }) => {
  console.log(JSON.stringify({ level: "info", msg: "mail (console mailer)", to, subject }));
});

const resendMailer = (apiKey: string, from: string) =>
  mailerSending(async ({ to, subject, text }) => {
    const res = await fetch("https://api.resend.com/emails", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ from, to: [to], subject, text }),
    });
    if (!res.ok) throw new MailDeliveryError(`Resend answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  });

export function createMailer(config: Config): Mailer {
  return config.MAIL_PROVIDER === "resend" && config.RESEND_API_KEY ? resendMailer(config.RESEND_API_KEY, config.MAIL_FROM) : consoleMailer;
}
