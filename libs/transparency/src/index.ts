// @grantline/transparency: tamper evidence for the log. RFC 9162 Merkle trees over Kafka records' exact bytes,
// C2SP signed checkpoints (Ed25519), and the evidence bundle's line formats and streaming verifier. Pure: node:crypto only.
export { EMPTY_ROOT, InclusionVerifier, MerkleLog, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle';
export type { NodeHasher } from './merkle';
export { recordLeafData, recordLeafHash } from './record-leaf';
export type { LogRecordBytes } from './record-leaf';
export { CheckpointFormatError, formatCheckpoint, parseCheckpoint, parseTreeOrigin, treeOrigin } from './checkpoint';
export type { Checkpoint, TreeCoordinates } from './checkpoint';
export {
  SignedNoteError,
  createNoteSigner,
  ed25519PublicKeyBytes,
  noteKeyId,
  openSignedNote,
  parseVerifierKey,
  splitSignedNote,
  verifierKey,
} from './signed-note';
export type { NoteSigner, NoteVerifier } from './signed-note';
export {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BundleFormatError,
  bundleCheckpointLine,
  bundleEventLine,
  eventMatchesValue,
  parseBundleCheckpointLine,
  parseBundleEventLine,
  valueAsEvent,
} from './bundle-lines';
export type { BundleCheckpointLine, BundleEventLine, BundleManifest } from './bundle-lines';
export { BundleVerifier, VerificationCache } from './bundle-verifier';
export type { BadKind, BadPosition, BundleVerifierOptions, BundleVerifyReport, TreeExpectation, TreeReport } from './bundle-verifier';
export { LogTrees, treeTopics } from './log-trees';
export type { LeafPosition, LogTree, PublishedCheckpoint, TreeLogIdentity } from './log-trees';
