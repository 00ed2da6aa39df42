import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ParseOption,
  XmlDocument,
  XmlParseError,
  XmlValidateError,
  XsdValidator,
  xmlRegisterInputProvider,
} from "libxml2-wasm";
import { runtimePath } from "../runtime-files.ts";
import { ResponseCode } from "./codes.ts";
import { DuisRejection } from "./errors.ts";

/** Folder of the DUIS 5.4 schema set shipped with boxd. */
const SCHEMA_FOLDER = runtimePath("daemon", "duis", "schema");

/** The files of the schema set, by the name the imports use. */
const SCHEMA_FILES = ["duis-5.4.xsd", "mmc-5.4.xsd", "xmldsig-core-schema.xsd", "XMLSchema.dtd", "datatypes.dtd"];

/**
 * libxml2 options for untrusted input: no network, no external entities, no
 * entity substitution (libxml2 only substitutes with XML_PARSE_NOENT, which
 * is never set here).
 */
const UNTRUSTED_PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/**
 * Finds markup that has no place in a DUIS document: a DOCTYPE or ENTITY
 * declaration (they open the door to entity expansion and external
 * entities) or a processing instruction other than the XML declaration
 * (DUIS defines none). Scans the bytes, without decoding, for `<!` not
 * followed by `--` or `[CDATA[`, and for `<?` after the start.
 */
function forbiddenMarkup(body: Uint8Array): string | undefined {
  const LT = 0x3c;
  const BANG = 0x21;
  const QUESTION = 0x3f;
  for (let i = body.indexOf(LT); i !== -1 && i + 1 < body.length; i = body.indexOf(LT, i + 1)) {
    const next = body[i + 1];
    if (next === BANG) {
      const rest = String.fromCharCode(...body.subarray(i + 2, i + 9)).toUpperCase();
      if (rest.startsWith("DOCTYPE")) return "a DOCTYPE declaration";
      if (rest.startsWith("ENTITY")) return "an ENTITY declaration";
    } else if (next === QUESTION) {
      const target = String.fromCharCode(...body.subarray(i + 2, i + 6)).toLowerCase();
      const isDeclaration = target.startsWith("xml") && (target.length === 3 || /[\s?]/.test(target[3]!));
      if (!isDeclaration) return "a processing instruction";
    }
  }
  return undefined;
}

let validator: XsdValidator | undefined;

/** Serves the bundled schema files to libxml2 from memory, so the compile reads nothing else. */
function registerSchemaProvider(): void {
  const files = new Map<string, Uint8Array>();
  for (const name of SCHEMA_FILES) {
    files.set(name, readFileSync(join(SCHEMA_FOLDER, name)));
  }

  const open = new Map<number, { data: Uint8Array; offset: number }>();
  let nextHandle = 1;
  const nameOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);

  xmlRegisterInputProvider({
    match: (url) => files.has(nameOf(url)),
    open: (url) => {
      const data = files.get(nameOf(url));
      if (!data) return undefined;
      const handle = nextHandle++;
      open.set(handle, { data, offset: 0 });
      return handle;
    },
    read: (handle, buffer) => {
      const stream = open.get(handle);
      if (!stream) return -1;
      const count = Math.min(buffer.length, stream.data.length - stream.offset);
      buffer.set(stream.data.subarray(stream.offset, stream.offset + count));
      stream.offset += count;
      return count;
    },
    close: (handle) => open.delete(handle),
  });
}

/** Compiles DUIS Schema 5.4 once (about 0.1 s) and returns the validator. */
export function duisValidator(): XsdValidator {
  if (validator) return validator;

  registerSchemaProvider();
  const schema = XmlDocument.fromBuffer(readFileSync(join(SCHEMA_FOLDER, "duis-5.4.xsd")), {
    url: "duis-5.4.xsd",
  });
  try {
    validator = XsdValidator.fromDoc(schema);
  } finally {
    schema.dispose();
  }
  return validator;
}

/**
 * Parses an untrusted DUIS body. Rejects DTD content and processing
 * instructions before parsing, then anything that is not well-formed.
 * The caller disposes the returned document.
 */
export function parseUntrusted(body: Uint8Array): XmlDocument {
  const forbidden = forbiddenMarkup(body);
  if (forbidden) {
    throw new DuisRejection(ResponseCode.malformedRequest, `request contains ${forbidden}, which DUIS does not allow`);
  }

  try {
    return XmlDocument.fromBuffer(body, { option: UNTRUSTED_PARSE_OPTIONS });
  } catch (error) {
    if (error instanceof XmlParseError) {
      throw new DuisRejection(ResponseCode.malformedRequest, `request is not well-formed XML: ${firstLine(error.message)}`);
    }
    throw error;
  }
}

/** Validates a parsed document against DUIS Schema 5.4. */
export function validateAgainstSchema(doc: XmlDocument): void {
  try {
    duisValidator().validate(doc);
  } catch (error) {
    if (error instanceof XmlValidateError) {
      throw new DuisRejection(
        ResponseCode.malformedRequest,
        `request is not valid against DUIS Schema 5.4: ${firstLine(error.message)}`,
      );
    }
    throw error;
  }
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0]!.trim();
}
