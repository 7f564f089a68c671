using System.ComponentModel.DataAnnotations;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>One cluster's hours on an admin form (an award, a technical cap); empty means none given.</summary>
public sealed class ClusterHoursInput
{
    public Guid ClusterId { get; set; }

    [Range(0, 1_000_000_000)]
    public decimal? Hours { get; set; }
}
