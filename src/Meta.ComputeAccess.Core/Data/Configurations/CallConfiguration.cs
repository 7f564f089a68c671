using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class CallConfiguration : IEntityTypeConfiguration<Call>
{
    public void Configure(EntityTypeBuilder<Call> builder)
    {
        builder.ToTable("calls", t =>
        {
            t.HasCheckConstraint("ck_calls_closes_after_opens", "closes_at IS NULL OR closes_at > opens_at");
            t.HasCheckConstraint("ck_calls_award_period", "award_end > award_start");
            t.HasCheckConstraint("ck_calls_reviews_per_proposal", "reviews_per_proposal BETWEEN 1 AND 10");
        });
        builder.Property(c => c.Title).HasMaxLength(200).IsRequired();
        builder.Property(c => c.Slug).HasMaxLength(60).IsRequired();
        builder.Property(c => c.TimeZoneId).HasMaxLength(64).IsRequired();
        builder.HasIndex(c => c.Slug).IsUnique();
        builder.HasIndex(c => c.Status);

        builder.OwnsMany(c => c.Clusters, cc =>
        {
            cc.ToTable("call_clusters", t =>
            {
                t.HasCheckConstraint("ck_call_clusters_bounds", "min_request_hours >= 0 AND min_request_hours <= max_request_hours AND max_request_hours <= budget_hours");
            });
            cc.WithOwner().HasForeignKey("CallId");
            cc.HasKey("CallId", nameof(CallCluster.ClusterId));
            cc.Property(x => x.BudgetHours).HasPrecision(14, 2);
            cc.Property(x => x.MinRequestHours).HasPrecision(14, 2);
            cc.Property(x => x.MaxRequestHours).HasPrecision(14, 2);
            cc.HasOne<Cluster>().WithMany().HasForeignKey(x => x.ClusterId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Navigation(c => c.Clusters).UsePropertyAccessMode(PropertyAccessMode.Field);

        builder.OwnsMany(c => c.Rubric, r =>
        {
            r.ToTable("rubric_criteria");
            r.WithOwner().HasForeignKey("CallId");
            r.HasKey(x => x.Id);
            r.Property(x => x.Id).ValueGeneratedNever();
            r.Property(x => x.Name).HasMaxLength(100).IsRequired();
            r.Property(x => x.Guidance).HasMaxLength(2000).IsRequired();
            r.Property(x => x.Weight).HasPrecision(6, 2);
        });
        builder.Navigation(c => c.Rubric).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}
