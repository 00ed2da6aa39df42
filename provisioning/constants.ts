/**
 * File layout and limits of the factory provisioning data in the protected
 * state directory. Paths are relative to that directory.
 */

/** Provisioning record, written last by the factory command, so its presence marks a complete run. */
export const PROVISIONING_FILE = "provisioning.json";

/** Ed25519 identity key pair of the box (secret seed included). */
export const IDENTITY_KEY_FILE = "identity.key.json";

/**
 * Public half of the identity key, in the TUF key format. The lock authority
 * passes it as `--device-key` to verify the box's check-ins, so it is not secret.
 */
export const IDENTITY_PUBLIC_KEY_FILE = "identity.pub.json";

/** Folder of the trust anchors. */
export const ANCHORS_FOLDER = "anchors";

/** First root metadata of the update repository, stored byte for byte as given. */
export const ROOT_METADATA_FILE = `${ANCHORS_FOLDER}/root.json`;

/** Public key of the lock authority, in the TUF key format. */
export const LOCK_AUTHORITY_KEY_FILE = `${ANCHORS_FOLDER}/lock-authority.pub.json`;

/** Admin token of a development-mode box, readable only by its owner, so a developer can call the admin API. */
export const DEVELOPMENT_ADMIN_TOKEN_FILE = "admin-token.development";

/** Folder the device-credentials hook of the factory command writes to. */
export const DEVICE_CREDENTIALS_FOLDER = "devices";

/** Version of the format of {@link PROVISIONING_FILE}. */
export const PROVISIONING_FORMAT = 1;

/** Mode of the state directory: only the daemon's user may list or enter it. */
export const STATE_DIRECTORY_MODE = 0o700;

/** Mode of every file the factory command writes. */
export const SECRET_FILE_MODE = 0o600;

/** Length of the admin API token in random bytes (sent as base64url). */
export const ADMIN_TOKEN_BYTES = 32;

/** Maximum size in bytes of the root metadata file given to the factory command. */
export const MAX_ROOT_METADATA_BYTES = 512 * 1024;

/** Prefix of generated device IDs, followed by 16 random hex digits. */
export const DEVICE_ID_PREFIX = "boxd-";

/**
 * Admin API address printed by the factory command unless `--admin-url` is
 * given. It matches the daemon's defaults `admin.host` 127.0.0.1 and
 * `admin.port` 8090.
 */
export const DEFAULT_ADMIN_URL = "http://127.0.0.1:8090";
