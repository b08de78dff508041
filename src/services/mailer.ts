// Delivers login codes: logged to the console in development, sent through Resend's HTTP API otherwise.
import type { Config } from "../config.ts";

export interface LoginCodeMail {
  to: string;
  code: string;
  tenantName: string;
  expiresInSeconds: number;
}

export interface Mailer {
  sendLoginCode(mail: LoginCodeMail): Promise<void>;
}

export class MailDeliveryError extends Error {}

function subject(mail: LoginCodeMail): string {
  return `${mail.code} is your ${mail.tenantName} sign-in code`;
}

function body(mail: LoginCodeMail): string {
  return `Your sign-in code is ${mail.code}. It expires in ${Math.round(mail.expiresInSeconds / 60)} minutes.\nIf you did not ask for it, ignore this email.`;
}

const consoleMailer: Mailer = {
  async sendLoginCode(mail) {
    console.log(JSON.stringify({ level: "info", msg: "login code (console mailer)", to: mail.to, subject: subject(mail) }));
  },
};

function resendMailer(apiKey: string, from: string): Mailer {
  return {
    async sendLoginCode(mail) {
      const res = await fetch("https://api.resend.com/emails", {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ from, to: [mail.to], subject: subject(mail), text: body(mail) }),
      });
      if (!res.ok) throw new MailDeliveryError(`Resend answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    },
  };
}

export function createMailer(config: Config): Mailer {
  return config.MAIL_PROVIDER === "resend" && config.RESEND_API_KEY ? resendMailer(config.RESEND_API_KEY, config.MAIL_FROM) : consoleMailer;
}
