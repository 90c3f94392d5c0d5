import { z } from 'zod';

/**
 * `defaults.tls`: how HTTPS connections are verified and which client
 * certificate they present. Files are relative to the scenario file and are
 * read (and checked) once, when the scenario is loaded (tls-files.ts).
 */
export const tlsSchema = z
  .strictObject({
    insecure: z.boolean().optional()
      .meta({ description: "Skip verifying the server's certificate (self-signed or expired certificates, wrong names). Default false; --insecure sets it." }),
    ca: z.string().min(1).optional()
      .meta({ description: "PEM file of the certificate authority (or the self-signed certificate) to trust, in addition to Node's built-in ones." }),
    cert: z.string().min(1).optional().meta({ description: 'PEM file of the client certificate (with key), for servers that ask for one.' }),
    key: z.string().min(1).optional().meta({ description: "PEM file of the client certificate's private key." }),
    // YAML reads `passphrase: 1234` as a number: it is the passphrase "1234".
    passphrase: z.union([z.string(), z.number()]).transform(String).optional()
      .meta({ description: 'Passphrase of an encrypted key (a number is read as its digits).' }),
    servername: z.string().min(1).optional()
      .meta({ description: "Name sent as SNI to the target's host and checked against its certificate, instead of the target URL's host." }),
  })
  .superRefine((t, ctx) => {
    if (t.cert !== undefined && t.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'required with cert: the private key of the client certificate' });
    if (t.key !== undefined && t.cert === undefined) ctx.addIssue({ code: 'custom', path: ['cert'], message: 'required with key: the client certificate the key belongs to' });
    if (t.passphrase !== undefined && t.key === undefined) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'goes with key (the passphrase of an encrypted key)' });
  });

export type TlsSpec = z.output<typeof tlsSchema>;
