//! Files a firm attaches to its answer when a bank asks for more: checked at the boundary
//! (at most five, each at most 4 MB and 10 MB together, PDF, PNG or JPEG by their own first
//! bytes — the name and the declared type are not trusted), kept in the database with their
//! SHA-256, and read by the firm and by the bank the application went to; each read by the
//! bank is recorded for the firm, like a read of its figures.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::store::applications::{accesses, files};

/// How many files one answer takes.
pub const MAX_FILES: usize = 5;
/// The largest file, and all of one answer's files together.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_TOTAL_BYTES: usize = 10 * 1024 * 1024;

/// A file as it arrived: its name and its bytes.
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A file in the API: its name and its content in base64 (RFC 4648, standard alphabet).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentJson {
    pub name: String,
    pub content_base64: String,
}

impl AttachmentJson {
    /// The bytes, or the field's fault (`attachments[i].content_base64`).
    pub fn decode(self, index: usize) -> AppResult<Attachment> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|_| {
                AppError::field_fault(
                    Fault::Format,
                    format!("attachments[{index}].content_base64"),
                    "not base64",
                )
            })?;
        Ok(Attachment {
            name: self.name,
            bytes,
        })
    }
}

/// A kept file, without its content.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A file's media type from its first bytes.
fn media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A file checked: its plain name (no folders), its media type.
pub struct Checked {
    name: String,
    media_type: &'static str,
    bytes: Vec<u8>,
}

impl Checked {
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Checks the files of one answer, each by its own field.
pub fn check(list: Vec<Attachment>) -> AppResult<Vec<Checked>> {
    if list.len() > MAX_FILES {
        return Err(AppError::field_fault(
            Fault::Range,
            "attachments",
            format!("at most {MAX_FILES} files an answer"),
        ));
    }
    let total: usize = list.iter().map(|a| a.bytes.len()).sum();
    if total > MAX_TOTAL_BYTES {
        return Err(AppError::field_fault(
            Fault::Range,
            "attachments",
            "at most 10 MB of files an answer",
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let field = format!("attachments[{i}]");
            let plain = a.name.rsplit(['/', '\\']).next().unwrap_or_default();
            let name = crate::service::text::line(&format!("{field}.name"), plain, 200)?;
            if a.bytes.is_empty() || a.bytes.len() > MAX_FILE_BYTES {
                return Err(AppError::field_fault(
                    Fault::Range,
                    field,
                    "a file of 1 byte to 4 MB",
                ));
            }
            let media_type = media_type(&a.bytes).ok_or_else(|| {
                AppError::field_fault(Fault::NotAccepted, field, "only PDF, PNG or JPEG files")
            })?;
            Ok(Checked {
                name,
                media_type,
                bytes: a.bytes,
            })
        })
        .collect()
}

/// Keeps the checked files of an answer (in the answer's transaction).
pub(super) async fn keep<C: ConnectionTrait>(
    txn: &C,
    application_id: i64,
    message_id: i64,
    list: Vec<Checked>,
) -> AppResult<Vec<FileView>> {
    let mut kept = Vec::new();
    for c in list {
        let sha256 = hex::encode(Sha256::digest(&c.bytes));
        let size = i64::try_from(c.bytes.len()).unwrap_or(i64::MAX);
        let model = files::ActiveModel {
            application_id: Set(application_id),
            message_id: Set(message_id),
            name: Set(c.name.clone()),
            media_type: Set(c.media_type.to_owned()),
            size: Set(size),
            sha256: Set(sha256.clone()),
            content: Set(c.bytes),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        kept.push(FileView {
            id: model.id,
            name: c.name,
            media_type: c.media_type.to_owned(),
            size,
            sha256,
        });
    }
    Ok(kept)
}

/// The files of the given answers, by message id, without their content.
pub(super) async fn of_messages<C: ConnectionTrait>(
    db: &C,
    application_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<FileView>>> {
    let rows = files::Entity::find()
        .select_only()
        .columns([
            files::Column::Id,
            files::Column::MessageId,
            files::Column::Name,
            files::Column::MediaType,
            files::Column::Size,
            files::Column::Sha256,
        ])
        .filter(files::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(files::Column::Id)
        .into_tuple::<(i64, i64, String, String, i64, String)>()
        .all(db)
        .await?;
    let mut out: std::collections::HashMap<i64, Vec<FileView>> = Default::default();
    for (id, message_id, name, media_type, size, sha256) in rows {
        out.entry(message_id).or_default().push(FileView {
            id,
            name,
            media_type,
            size,
            sha256,
        });
    }
    Ok(out)
}

/// One file with its content, for the firm, the bank the application went to, or a regulator;
/// the bank's read is recorded for the firm.
pub async fn read(
    db: &Db,
    caller: &Caller,
    application_id: i64,
    file_id: i64,
) -> AppResult<(FileView, Vec<u8>)> {
    super::applications::visible(db, caller, application_id).await?;
    let file = files::Entity::find_by_id(file_id)
        .one(db)
        .await?
        .filter(|f| f.application_id == application_id)
        .ok_or(AppError::NotFound)?;
    if caller.role == Role::Bank {
        let txn = crate::db::begin_write(db).await?;
        accesses::ActiveModel {
            application_id: Set(application_id),
            account_id: Set(Some(caller.account_id)),
            actor: Set(caller.username.clone()),
            what: Set("application_file".to_owned()),
            at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
    }
    Ok((
        FileView {
            id: file.id,
            name: file.name,
            media_type: file.media_type,
            size: file.size,
            sha256: file.sha256,
        },
        file.content,
    ))
}
