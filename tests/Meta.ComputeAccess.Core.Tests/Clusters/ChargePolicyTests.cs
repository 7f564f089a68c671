using Meta.ComputeAccess.Clusters;

namespace Meta.ComputeAccess.Core.Tests.Clusters;

public sealed class ChargePolicyTests
{
    private static readonly Guid Cluster = Guid.Parse("0190a1b2-0000-7000-8000-000000000001");
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static ChargePolicy Policy(string rates, string multipliers = "", int version = 1, DateTimeOffset? from = null) =>
        ChargePolicy.Create(Cluster, version, from ?? Now, rates, multipliers, "test rates", null, Now);

    /// <summary>Units for a job of <paramref name="hours"/> hours holding <paramref name="tres"/>.</summary>
    private static decimal Charge(ChargePolicy policy, string tres, decimal hours, string partition = "") =>
        ChargePolicy.Charge((long)(hours * 3600), policy.UnitsPerHour(tres, partition));

    [Fact]
    public void Untyped_gpus_at_rate_one_charge_their_gpu_hours_as_before_rates()
    {
        var policy = Policy("gres/gpu=1");

        Assert.Equal(8m, Charge(policy, "billing=16,cpu=16,gres/gpu=4,mem=64G,node=1", 2m));
        // Slurm prints the typed breakdown beside the total: 4 GPUs, not 8.
        Assert.Equal(8m, Charge(policy, "cpu=16,gres/gpu:h100=4,gres/gpu=4", 2m));
    }

    [Fact]
    public void A_cluster_charged_at_half_rate_costs_half_a_unit_per_gpu_hour()
    {
        var mtia = Policy("gres/gpu=1/2");

        Assert.Equal(4m, Charge(mtia, "gres/gpu=4", 2m));
        Assert.Equal(100m, mtia.ToNative(50m));
    }

    [Fact]
    public void Typed_gpus_are_charged_at_their_types_rate_and_unlisted_types_at_the_gres_gpu_rate()
    {
        var mixed = Policy("gres/gpu=1\ngres/gpu:mtia=0.5");

        Assert.Equal(1m, Charge(mixed, "gres/gpu:mtia=2,gres/gpu=2", 1m));
        Assert.Equal(2m, Charge(mixed, "gres/gpu:h100=2,gres/gpu=2", 1m));
        // Two typed entries in one job, and GPUs of the total that no typed entry covers.
        Assert.Equal(2.5m, Charge(mixed, "gres/gpu:mtia=1,gres/gpu:h100=2", 1m));
        Assert.Equal(3.5m, Charge(mixed, "gres/gpu:mtia=1,gres/gpu=4", 1m));
    }

    [Fact]
    public void A_mig_profile_is_a_whole_gpu_as_slurm_counts_it_unless_the_policy_gives_it_a_fraction()
    {
        // Rate 1 (what every existing cluster got): a slice costs what it cost before rates, one GPU-hour per hour.
        var rateOne = Policy("gres/gpu=1");
        Assert.Equal(7m, Charge(rateOne, "gres/gpu:1g.10gb=1,gres/gpu=1", 7m));
        Assert.Equal(14m, Charge(rateOne, "gres/gpu:3g.40gb=2,gres/gpu=2", 7m));

        // Named as sevenths: seven hours of one 1g.10gb slice are exactly one unit (the fraction is divided once, at the end).
        var sevenths = Policy("gres/gpu=1\ngres/gpu:1g.10gb=1/7\ngres/gpu:3g.40gb=3/7");
        Assert.Equal(1m, Charge(sevenths, "gres/gpu:1g.10gb=1,gres/gpu=1", 7m));
        Assert.Equal(6m, Charge(sevenths, "gres/gpu:3g.40gb=2,gres/gpu=2", 7m));
        Assert.Equal(0.142857m, Charge(sevenths, "gres/gpu:1g.10gb=1,gres/gpu=1", 1m));
        // A profile the policy does not name is still a whole GPU there.
        Assert.Equal(1m, Charge(sevenths, "gres/gpu:2g.20gb=1,gres/gpu=1", 1m));

        var priced = Policy("gres/gpu=1, gres/gpu:1g.10gb=0.2");
        Assert.Equal(0.4m, Charge(priced, "gres/gpu:1g.10gb=2,gres/gpu=2", 1m));
    }

    [Fact]
    public void A_billing_rate_charges_slurms_billing_tres_and_nothing_else()
    {
        var billing = Policy("billing=1/100\ngres/gpu=1");

        Assert.Equal(16m, Charge(billing, "billing=800,cpu=64,gres/gpu=8", 2m));
        // No billing in the job: its GPUs are charged.
        Assert.Equal(16m, Charge(billing, "cpu=64,gres/gpu=8", 2m));
    }

    [Fact]
    public void Cpu_rates_charge_cpu_only_jobs_and_never_a_gpu_jobs_cpus()
    {
        var policy = Policy("gres/gpu=1\ncpu=1/64");

        Assert.Equal(2m, Charge(policy, "billing=128,cpu=128,mem=256G,node=1", 1m));
        Assert.Equal(1m, Charge(policy, "billing=128,cpu=128,gres/gpu=1", 1m));
        Assert.Equal(0m, Charge(Policy("gres/gpu=1"), "cpu=128", 1m));
    }

    [Fact]
    public void A_partition_multiplier_scales_the_charge_of_its_jobs_only()
    {
        var policy = Policy("gres/gpu=1", "preempt=0.5\nurgent=2");

        Assert.Equal(4m, Charge(policy, "gres/gpu=8", 1m, "preempt"));
        Assert.Equal(16m, Charge(policy, "gres/gpu=8", 1m, "urgent"));
        Assert.Equal(8m, Charge(policy, "gres/gpu=8", 1m, "batch"));
        Assert.Equal(8m, Charge(policy, "gres/gpu=8", 1m));
    }

    [Fact]
    public void Charges_are_rounded_half_to_even_to_six_decimals_once_per_job()
    {
        var third = Policy("gres/gpu=1/3");

        // 1 s × 1/3 ÷ 3600 = 0.0000925925…
        Assert.Equal(0.000093m, ChargePolicy.Charge(1, third.UnitsPerHour("gres/gpu=1", "")));
        Assert.Equal(1m, ChargePolicy.Charge(3 * 3600, third.UnitsPerHour("gres/gpu=1", "")));
    }

    [Fact]
    public void A_rate_change_mid_allocation_charges_each_job_by_the_version_in_force_at_its_end()
    {
        var change = Now.AddDays(30);
        var v1 = Policy("gres/gpu=1", version: 1, from: Now);
        var v2 = Policy("gres/gpu=1/2", "preempt=0.5", version: 2, from: change);
        var set = new ChargePolicySet(Cluster, [v2, v1]);

        Assert.Equal(4m, set.Price(change.AddSeconds(-1), 3600, "gres/gpu=4", "preempt", out var before));
        Assert.Equal(v1.Id, before);
        Assert.Equal(1m, set.Price(change, 3600, "gres/gpu=4", "preempt", out var at));
        Assert.Equal(v2.Id, at);
        Assert.Equal(2m, set.Price(change.AddDays(3), 3600, "gres/gpu=4", "", out _));
        // Before the first version, the default rate 1 (no version): how every hour was charged before rates.
        Assert.Equal(4m, set.Price(Now.AddDays(-1), 3600, "gres/gpu=4", "preempt", out var none));
        Assert.Null(none);
        Assert.Same(v2, set.At(change.AddDays(100)));
    }

    [Fact]
    public void A_cluster_without_a_policy_is_charged_rate_one_per_gpu_hour()
    {
        var set = new ChargePolicySet(Cluster, []);

        Assert.Equal(6m, set.Price(Now, 7200, "gres/gpu:h100=3,gres/gpu=3", "x", out var policy));
        Assert.Null(policy);
        Assert.Equal(ChargePolicy.DefaultRates, set.At(Now).RatesText);
    }

    [Theory]
    [InlineData("gres/gpu:mtia=0.5", "need a gres/gpu rate")]
    [InlineData("gres/mps=1", "not a TRES")]
    [InlineData("gres/gpu=abc", "must be a number")]
    [InlineData("gres/gpu=1/0", "must be a number")]
    [InlineData("gres/gpu=-1", "must be a number")]
    [InlineData("gres/gpu=1\ngres/gpu=2", "listed twice")]
    [InlineData("gres/gpu", "name=value")]
    [InlineData("", "at least one rate")]
    [InlineData("gres/gpu=0\ncpu=1", "cannot be 0")]
    public void Unreadable_rates_are_refused_with_a_reason_beside_the_field(string rates, string reason)
    {
        var refused = Assert.Throws<DomainException>(() => Policy(rates));

        Assert.Contains(reason, refused.Fields["Rates"], StringComparison.Ordinal);
    }

    [Fact]
    public void Rates_and_multipliers_are_stored_as_written_in_one_canonical_form()
    {
        var policy = Policy(" gres/gpu = 1 , GRES/GPU:MTIA = 1/2 ", "preempt = 0.50");

        Assert.Equal("gres/gpu=1\ngres/gpu:mtia=1/2", policy.RatesText);
        Assert.Equal("preempt=0.5", policy.MultipliersText);
        Assert.Equal("gres/gpu", policy.Native.Tres);
        Assert.Throws<DomainException>(() => Policy("gres/gpu=1", "pre empt=1"));
        Assert.Throws<DomainException>(() => ChargePolicy.Create(Cluster, 1, Now, "gres/gpu=1", "", " ", null, Now));
    }
}
