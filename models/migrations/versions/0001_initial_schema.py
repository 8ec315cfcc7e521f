"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28

The whole domain of the design, with the invariants the database can hold itself:
plans and merges never cross districts (composite foreign keys), a created record is
merged at most once (unique link_audit.created_record_id; merged is final), and a
record that ever carried a learning plan cannot be deleted (triggers below).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRIGGERS = """
CREATE FUNCTION ale_mark_had_learning_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE students SET had_learning_plan = true
   WHERE id = NEW.student_id AND NOT had_learning_plan;
  RETURN NEW;
END $$;
CREATE TRIGGER trg_learning_plans_mark_student
  AFTER INSERT OR UPDATE OF student_id ON learning_plans
  FOR EACH ROW EXECUTE FUNCTION ale_mark_had_learning_plan();

CREATE FUNCTION ale_guard_student_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- the one way past this guard: wiping a whole district on purpose (the demo district)
  IF current_setting('ale.purge_district', true) = OLD.district_id THEN
    RETURN OLD;
  END IF;
  IF OLD.origin = 'sis' THEN
    RAISE EXCEPTION 'SIS records are never deleted (student %)', OLD.id USING ERRCODE = 'P0001';
  END IF;
  IF OLD.had_learning_plan OR OLD.status = 'merged' THEN
    RAISE EXCEPTION 'student % was used for a learning plan or merged and cannot be deleted', OLD.id
      USING ERRCODE = 'P0002';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER trg_students_guard_delete
  BEFORE DELETE ON students FOR EACH ROW EXECUTE FUNCTION ale_guard_student_delete();

CREATE FUNCTION ale_guard_student_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'merged' AND (NEW.status <> 'merged' OR NEW.merged_into_id <> OLD.merged_into_id) THEN
    RAISE EXCEPTION 'student % is merged; a merge is permanent', OLD.id USING ERRCODE = 'P0003';
  END IF;
  IF NEW.district_id <> OLD.district_id OR NEW.origin <> OLD.origin THEN
    RAISE EXCEPTION 'student % cannot change district or origin', OLD.id USING ERRCODE = 'P0004';
  END IF;
  IF OLD.had_learning_plan AND NOT NEW.had_learning_plan THEN
    NEW.had_learning_plan := true;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER trg_students_guard_update
  BEFORE UPDATE ON students FOR EACH ROW EXECUTE FUNCTION ale_guard_student_update();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS trg_students_guard_update ON students;
DROP FUNCTION IF EXISTS ale_guard_student_update();
DROP TRIGGER IF EXISTS trg_students_guard_delete ON students;
DROP FUNCTION IF EXISTS ale_guard_student_delete();
DROP TRIGGER IF EXISTS trg_learning_plans_mark_student ON learning_plans;
DROP FUNCTION IF EXISTS ale_mark_had_learning_plan();
"""


def upgrade() -> None:
    op.create_table('districts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts'))
    )
    op.create_table('batches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('bulk', 'delta', name='batch_kind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('status', sa.Enum('received', 'ingesting', 'applied', 'held', 'rejected', 'failed', name='batch_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('deactivated', sa.Integer(), nullable=False),
    sa.Column('quarantined', sa.Integer(), nullable=False),
    sa.Column('ignored', sa.Integer(), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_batches_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('district_id', 'checksum', name=op.f('uq_batches_district_id_checksum'))
    )
    op.create_index('ix_batches_district_id_received_at', 'batches', ['district_id', 'received_at'], unique=False)
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_outbox_events_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    op.create_index('ix_outbox_events_unpublished', 'outbox_events', ['id'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('schools',
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('sis_source_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('org_type', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_schools_district_id_districts')),
    sa.PrimaryKeyConstraint('district_id', 'sis_source_id', name=op.f('pk_schools'))
    )
    op.create_table('staff',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.Enum('registrar', 'secretary', 'teacher', name='staff_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_staff_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_token_hash'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_staff_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.Enum('create', 'edit_ids', 'link', 'delete', 'dismiss_suggestion', 'initiate_plan', 'batch_approve', 'batch_reject', name='audit_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('student_id', sa.BigInteger(), nullable=True),
    sa.Column('batch_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("actor_kind IN ('staff', 'system', 'ops')", name=op.f('ck_audit_log_actor_kind_known')),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff.id'], name=op.f('fk_audit_log_actor_staff_id_staff')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_audit_log_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_district_id_at', 'audit_log', ['district_id', 'at'], unique=False)
    op.create_index('ix_audit_log_student_id', 'audit_log', ['student_id'], unique=False)
    op.create_table('quarantined_rows',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('batch_id', sa.BigInteger(), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('reason_code', sa.String(length=48), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('sis_source_id', sa.Text(), nullable=True),
    sa.Column('raw', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_quarantined_rows_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_quarantined_rows_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_rows'))
    )
    op.create_index('ix_quarantined_rows_batch_id_row_number', 'quarantined_rows', ['batch_id', 'row_number'], unique=False)
    op.create_table('students',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('origin', sa.Enum('sis', 'created', name='origin', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'inactive', 'merged', name='student_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sis_source_id', sa.Text(), nullable=True),
    sa.Column('ssid', sa.String(length=32), nullable=True),
    sa.Column('other_id', sa.String(length=64), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=False),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('school_id', sa.Text(), nullable=True),
    sa.Column('row_hash', sa.LargeBinary(), nullable=True),
    sa.Column('last_batch_id', sa.BigInteger(), nullable=True),
    sa.Column('had_learning_plan', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger(), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_staff_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(origin = 'sis') = (sis_source_id IS NOT NULL)", name=op.f('ck_students_sis_source_id_iff_sis')),
    sa.CheckConstraint("(status = 'merged') = (merged_into_id IS NOT NULL)", name=op.f('ck_students_merged_iff_merged_into')),
    sa.CheckConstraint("status <> 'inactive' OR origin = 'sis'", name=op.f('ck_students_only_sis_inactive')),
    sa.CheckConstraint("status <> 'merged' OR origin = 'created'", name=op.f('ck_students_only_created_merge')),
    sa.CheckConstraint('merged_into_id IS NULL OR merged_into_id <> id', name=op.f('ck_students_not_merged_into_self')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff.id'], name=op.f('fk_students_created_by_staff_id_staff')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_students_district_id_districts')),
    sa.ForeignKeyConstraint(['last_batch_id'], ['batches.id'], name=op.f('fk_students_last_batch_id_batches')),
    sa.ForeignKeyConstraint(['merged_into_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_students_merged_into_same_district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_students')),
    sa.UniqueConstraint('district_id', 'sis_source_id', name=op.f('uq_students_district_id_sis_source_id')),
    sa.UniqueConstraint('id', 'district_id', name=op.f('uq_students_id_district_id'))
    )
    op.create_index('ix_students_district_other_id', 'students', ['district_id', 'other_id'], unique=False)
    op.create_index('ix_students_unlinked', 'students', ['district_id', 'created_at'], unique=False, postgresql_where=sa.text("origin = 'created' AND status = 'active'"))
    op.create_index('uq_students_active_sis_ssid', 'students', ['district_id', 'ssid'], unique=True, postgresql_where=sa.text("origin = 'sis' AND status = 'active' AND ssid IS NOT NULL"))
    op.create_table('dismissed_suggestions',
    sa.Column('created_record_id', sa.BigInteger(), nullable=False),
    sa.Column('sis_record_id', sa.BigInteger(), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_dismissed_created_same_district'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_dismissed_suggestions_district_id_districts')),
    sa.ForeignKeyConstraint(['sis_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_dismissed_sis_same_district'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_dismissed_suggestions_staff_id_staff')),
    sa.PrimaryKeyConstraint('created_record_id', 'sis_record_id', name=op.f('pk_dismissed_suggestions'))
    )
    op.create_table('holds',
    sa.Column('created_record_id', sa.BigInteger(), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Enum('ids_disagree', 'name_mismatch', 'ambiguous_other_id', name='hold_reason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('candidate_sis_record_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('first_held_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['candidate_sis_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_holds_candidate_same_district'),
    sa.ForeignKeyConstraint(['created_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_holds_created_same_district'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_holds_district_id_districts')),
    sa.PrimaryKeyConstraint('created_record_id', name=op.f('pk_holds'))
    )
    op.create_index('ix_holds_district_id', 'holds', ['district_id'], unique=False)
    op.create_table('learning_plans',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('student_id', sa.BigInteger(), nullable=False),
    sa.Column('started_on_student_id', sa.BigInteger(), nullable=False),
    sa.Column('school_year', sa.String(length=9), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'closed', name='plan_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_staff_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff.id'], name=op.f('fk_learning_plans_created_by_staff_id_staff')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_learning_plans_district_id_districts')),
    sa.ForeignKeyConstraint(['student_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_learning_plans_student_same_district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_plans'))
    )
    op.create_index('ix_learning_plans_student_id', 'learning_plans', ['student_id'], unique=False)
    op.create_table('link_audit',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('created_record_id', sa.BigInteger(), nullable=False),
    sa.Column('sis_record_id', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.Enum('ssid', 'other_id', 'name_search', 'manual_ssid', 'manual_other_id', name='link_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_kind', sa.String(), nullable=False),
    sa.Column('actor_staff_id', sa.BigInteger(), nullable=True),
    sa.Column('batch_id', sa.BigInteger(), nullable=True),
    sa.Column('plans_moved', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(actor_kind = 'staff') = (actor_staff_id IS NOT NULL)", name=op.f('ck_link_audit_staff_actor_named')),
    sa.CheckConstraint("actor_kind IN ('system', 'staff')", name=op.f('ck_link_audit_actor_kind_known')),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff.id'], name=op.f('fk_link_audit_actor_staff_id_staff')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_link_audit_batch_id_batches')),
    sa.ForeignKeyConstraint(['created_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_link_audit_created_same_district'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_link_audit_district_id_districts')),
    sa.ForeignKeyConstraint(['sis_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_link_audit_sis_same_district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_audit')),
    sa.UniqueConstraint('created_record_id', name=op.f('uq_link_audit_created_record_id'))
    )
    op.create_index('ix_link_audit_sis_record_id', 'link_audit', ['sis_record_id'], unique=False)
    op.create_table('suggestions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('district_id', sa.String(length=32), nullable=False),
    sa.Column('created_record_id', sa.BigInteger(), nullable=False),
    sa.Column('sis_record_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Enum('possible_ssid_typo', name='suggestion_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_suggestions_created_same_district'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_suggestions_district_id_districts')),
    sa.ForeignKeyConstraint(['sis_record_id', 'district_id'], ['students.id', 'students.district_id'], name='fk_suggestions_sis_same_district'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('created_record_id', 'sis_record_id', 'kind', name=op.f('uq_suggestions_created_record_id_sis_record_id_kind'))
    )
    op.create_index('ix_suggestions_district_id', 'suggestions', ['district_id'], unique=False)

    op.execute(TRIGGERS)

def downgrade() -> None:
    op.execute(DROP_TRIGGERS)
    op.drop_index('ix_suggestions_district_id', table_name='suggestions')
    op.drop_table('suggestions')
    op.drop_index('ix_link_audit_sis_record_id', table_name='link_audit')
    op.drop_table('link_audit')
    op.drop_index('ix_learning_plans_student_id', table_name='learning_plans')
    op.drop_table('learning_plans')
    op.drop_index('ix_holds_district_id', table_name='holds')
    op.drop_table('holds')
    op.drop_table('dismissed_suggestions')
    op.drop_index('uq_students_active_sis_ssid', table_name='students', postgresql_where=sa.text("origin = 'sis' AND status = 'active' AND ssid IS NOT NULL"))
    op.drop_index('ix_students_unlinked', table_name='students', postgresql_where=sa.text("origin = 'created' AND status = 'active'"))
    op.drop_index('ix_students_district_other_id', table_name='students')
    op.drop_table('students')
    op.drop_index('ix_quarantined_rows_batch_id_row_number', table_name='quarantined_rows')
    op.drop_table('quarantined_rows')
    op.drop_index('ix_audit_log_student_id', table_name='audit_log')
    op.drop_index('ix_audit_log_district_id_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('staff')
    op.drop_table('schools')
    op.drop_index('ix_outbox_events_unpublished', table_name='outbox_events', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox_events')
    op.drop_index('ix_batches_district_id_received_at', table_name='batches')
    op.drop_table('batches')
    op.drop_table('districts')
