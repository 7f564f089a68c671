namespace Meta.ComputeAccess.Allocations;

/// <summary>When the team of an allocation is asked for its reports (<c>ProgressReports:*</c>).</summary>
public sealed class ProgressReportOptions
{
    public const string Section = "ProgressReports";

    /// <summary>The share of an allocation's days after which a progress report is asked for (<c>ProgressReports:ProgressAt</c>, default 0.5; 0 turns it off).</summary>
    public decimal ProgressAt { get; set; } = 0.5m;

    /// <summary>Days the team has for a progress report once asked (<c>ProgressReports:ProgressDueDays</c>, default 30).</summary>
    public int ProgressDueDays { get; set; } = 30;

    /// <summary>Days after the end date by which the final report is due (<c>ProgressReports:FinalDueDays</c>, default 30).</summary>
    public int FinalDueDays { get; set; } = 30;

    /// <summary>Days before the due date that the reminder goes out (<c>ProgressReports:ReminderDays</c>, default 7).</summary>
    public int ReminderDays { get; set; } = 7;

    public bool IsValid => ProgressAt is >= 0m and < 1m && ProgressDueDays is >= 1 and <= 365 && FinalDueDays is >= 1 and <= 365 && ReminderDays is >= 0 and <= 365;
}
