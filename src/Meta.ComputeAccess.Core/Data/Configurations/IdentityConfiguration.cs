using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class PortalUserConfiguration : IEntityTypeConfiguration<PortalUser>
{
    public void Configure(EntityTypeBuilder<PortalUser> builder)
    {
        builder.ToTable("users");
        builder.Property(u => u.FullName).HasMaxLength(200).IsRequired();
        builder.Property(u => u.Institution).HasMaxLength(200).IsRequired();
        builder.Property(u => u.Country).HasMaxLength(2).IsRequired();
        builder.Property(u => u.OrcidId).HasMaxLength(19);
        // Existing accounts have none; the default fills them when the column is added.
        builder.Property(u => u.VerifiedAffiliations).HasDefaultValueSql("'{}'::text[]");
        builder.Property(u => u.EmailDomain).HasMaxLength(255);
        builder.Property(u => u.TimeZoneId).HasMaxLength(64).HasDefaultValue("UTC");
        builder.HasIndex(u => u.EmailDomain);
        builder.HasIndex(u => u.CreatedAt);
        // The admin list sorted by PI: PostgreSQL walks users in name order and fetches each one's proposals,
        // instead of joining and sorting the whole call (docs/performance.md, pages).
        builder.HasIndex(u => new { u.FullName, u.Id });
    }
}

internal sealed class PortalRoleConfiguration : IEntityTypeConfiguration<PortalRole>
{
    /// <summary>Fixed ids so that the roles exist in every database from the first migration on.</summary>
    internal static readonly (Guid Id, string Name)[] Seed =
    [
        (Guid.Parse("0195a3f0-0000-7000-8000-000000000001"), Roles.Researcher),
        (Guid.Parse("0195a3f0-0000-7000-8000-000000000002"), Roles.Reviewer),
        (Guid.Parse("0195a3f0-0000-7000-8000-000000000003"), Roles.Admin),
        (Guid.Parse("0195a3f0-0000-7000-8000-000000000004"), Roles.Compliance),
        (Guid.Parse("0195a3f0-0000-7000-8000-000000000005"), Roles.Safety),
    ];

    public void Configure(EntityTypeBuilder<PortalRole> builder)
    {
        builder.ToTable("roles");
        builder.HasData(Seed.Select(r => new PortalRole(r.Name) { Id = r.Id, ConcurrencyStamp = r.Id.ToString() }));
    }
}

internal sealed class UserRoleConfiguration : IEntityTypeConfiguration<IdentityUserRole<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserRole<Guid>> builder) => builder.ToTable("user_roles");
}

internal sealed class UserClaimConfiguration : IEntityTypeConfiguration<IdentityUserClaim<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<Guid>> builder) => builder.ToTable("user_claims");
}

internal sealed class UserLoginConfiguration : IEntityTypeConfiguration<IdentityUserLogin<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserLogin<Guid>> builder) => builder.ToTable("user_logins");
}

internal sealed class UserTokenConfiguration : IEntityTypeConfiguration<IdentityUserToken<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityUserToken<Guid>> builder) => builder.ToTable("user_tokens");
}

internal sealed class RoleClaimConfiguration : IEntityTypeConfiguration<IdentityRoleClaim<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityRoleClaim<Guid>> builder) => builder.ToTable("role_claims");
}
