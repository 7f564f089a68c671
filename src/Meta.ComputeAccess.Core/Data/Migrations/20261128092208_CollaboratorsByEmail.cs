using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <summary>
    /// A reviewer's declared collaborators are kept by email address (as typed and normalized), not by account, so that
    /// declaring one never tells the reviewer whether the address has an account. Existing declarations keep the
    /// address of the account they named.
    /// </summary>
    public partial class CollaboratorsByEmail : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_reviewer_collaborators_users_collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.DropPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators");

            migrationBuilder.DropIndex(
                name: "ix_reviewer_collaborators_collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.AddColumn<string>(
                name: "normalized_email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE reviewer_collaborators c SET email = u.email, normalized_email = u.normalized_email
                FROM users u WHERE u.id = c.collaborator_user_id;
                DELETE FROM reviewer_collaborators WHERE normalized_email IS NULL OR email IS NULL;
                """);

            migrationBuilder.AlterColumn<string>(
                name: "normalized_email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldNullable: true);

            migrationBuilder.DropColumn(
                name: "collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.AddPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators",
                columns: new[] { "reviewer_user_id", "normalized_email" });

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_collaborators_normalized_email",
                table: "reviewer_collaborators",
                column: "normalized_email");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators");

            migrationBuilder.DropIndex(
                name: "ix_reviewer_collaborators_normalized_email",
                table: "reviewer_collaborators");

            migrationBuilder.AddColumn<Guid>(
                name: "collaborator_user_id",
                table: "reviewer_collaborators",
                type: "uuid",
                nullable: true);

            // Only declarations that name an account can go back; the others have no account to name.
            migrationBuilder.Sql("""
                UPDATE reviewer_collaborators c SET collaborator_user_id = u.id
                FROM users u WHERE u.normalized_email = c.normalized_email;
                DELETE FROM reviewer_collaborators WHERE collaborator_user_id IS NULL;
                """);

            migrationBuilder.AlterColumn<Guid>(
                name: "collaborator_user_id",
                table: "reviewer_collaborators",
                type: "uuid",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);

            migrationBuilder.DropColumn(
                name: "normalized_email",
                table: "reviewer_collaborators");

            migrationBuilder.DropColumn(
                name: "email",
                table: "reviewer_collaborators");

            migrationBuilder.AddPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators",
                columns: new[] { "reviewer_user_id", "collaborator_user_id" });

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_collaborators_collaborator_user_id",
                table: "reviewer_collaborators",
                column: "collaborator_user_id");

            migrationBuilder.AddForeignKey(
                name: "fk_reviewer_collaborators_users_collaborator_user_id",
                table: "reviewer_collaborators",
                column: "collaborator_user_id",
                principalTable: "users",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
