// Package pii protects personal data inside an event-sourced store by
// envelope encryption and crypto-shredding.
//
// Events are immutable: once an email address or a badge number is written
// into an event payload it cannot be edited out, yet a person may ask to be
// forgotten. So personal fields are never written in the clear. Each subject
// (an account) gets its own random data key; fields are sealed with it
// (AES-256-GCM) into self-describing tokens; the data key is stored only
// wrapped (encrypted) by a master key kept outside the database. Erasing a
// subject deletes its data key: from then on every token of that subject
// reads as erased, in every event, projection and backup, while the events
// themselves still replay and balances stay right.
//
// The pieces:
//
//   - [MasterKey]: 32 bytes from a secrets file ([LoadOrCreateMasterKey]) or
//     an environment variable ([MasterKeyFromEnv]).
//   - [DataKey], [Wrap], [Unwrap]: per-subject keys and their wrapping, bound
//     to the subject id so a wrapped key cannot be moved to another account.
//   - [Keyring]: where wrapped data keys live. [MemoryKeyring] serves tests;
//     a SQL keyring sharing the event store's database comes later.
//   - [Cipher]: Seal, Open and Erase of single values.
//   - [SealFields], [OpenFields]: the same for every `pii:"true"` string
//     field of a struct, which is how event payloads use it.
//   - [BlindIndex]: a keyed hash for equality lookups (by email, say)
//     without storing plaintext.
//
// Keys are derived per use from the master key (wrapping, each blind index
// purpose), so the master key itself never keys two different algorithms.
package pii
