/**
 * The tiny contract delivery needs from SMTP: send this raw message to this envelope.
 * The nodemailer pool is created in the composition root and adapted here.
 */
import type { Transporter } from 'nodemailer';

export interface Envelope {
  from: string;
  to: string;
}

export interface MessageTransport {
  /** Resolves with the server's reply when accepted; rejects with nodemailer's error (code, responseCode, response). */
  send(envelope: Envelope, raw: string): Promise<string>;
  close(): Promise<void>;
}

export function nodemailerTransport(mail: Transporter): MessageTransport {
  return {
    async send(envelope, raw) {
      const info = await mail.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw });
      return String((info as { response?: string }).response ?? '');
    },
    async close() {
      mail.close();
    },
  };
}

/**
 * Headers the DKIM signature covers. RFC 8058 requires List-Unsubscribe and
 * List-Unsubscribe-Post to be signed; nodemailer's default list leaves the latter out.
 */
export const DKIM_SIGNED_HEADERS =
  'From:Reply-To:Subject:Date:Message-ID:To:MIME-Version:Content-Type:List-Id:List-Unsubscribe:List-Unsubscribe-Post:X-Newsletter-Campaign';
